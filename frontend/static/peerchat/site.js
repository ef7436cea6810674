// On every page: logging out forgets messages this device still kept to send.
const logout = document.getElementById("logout-form");
if (logout) {
  logout.addEventListener("submit", () => {
    try {
      for (const key of Object.keys(localStorage)) {
        if (key.startsWith("peerchat:")) localStorage.removeItem(key);
      }
    } catch {
      // storage off: nothing kept
    }
  });
}
