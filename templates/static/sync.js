// The sync page: wait until every subsite beacon has answered (load or error both count:
// a cookie set by a 204 still fires `error`), or until the cap, then continue.
(function () {
  var box = document.getElementById('sync');
  if (!box) return;
  var target = box.getAttribute('data-continue');
  // The #fragment of the site page the sign-in started from (keep-fragment.js put it on the
  // form, so this page's address has it): on to the site page the sign-in returns to, which the
  // browser carries across the redirects that follow.
  var hash = window.location.hash;
  if (hash && hash.length <= 2048 && target && target.indexOf('#') < 0) target += hash;
  var waitMs = Number(box.getAttribute('data-wait-ms')) || 1500;
  var beacons = box.querySelectorAll('.beacon');
  var pending = beacons.length;
  var done = false;
  function go() {
    if (done) return;
    done = true;
    window.location.replace(target);
  }
  function settle() {
    pending -= 1;
    if (pending <= 0) go();
  }
  // Whether a script beacon has answered already: its entry in the page's resource timing,
  // made when the answer is in (before its load event). Failed connections may have none.
  function answered(src) {
    var timing = window.performance;
    return Boolean(timing && timing.getEntriesByName && timing.getEntriesByName(src, 'resource').length);
  }
  function watch(el) {
    var settled = false;
    function once() {
      if (settled) return;
      settled = true;
      settle();
    }
    el.addEventListener('load', once);
    el.addEventListener('error', once);
    // A beacon that answered before this script ran fired its event already (the UCenter notes'
    // scripts are async, and this file may come after them): an image says so itself, a script
    // through its timing entry. Without this the page waited the whole cap on every such sign-in.
    if (el.tagName === 'IMG' ? el.complete : answered(el.src)) once();
  }
  for (var i = 0; i < beacons.length; i += 1) watch(beacons[i]);
  if (pending <= 0) go();
  setTimeout(go, waitMs);
})();
