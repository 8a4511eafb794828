// The sync page: wait until every subsite beacon has answered (load or error both count:
// a cookie set by a 204 still fires `error`), or until the cap, then continue.
(function () {
  var box = document.getElementById('sync');
  if (!box) return;
  var target = box.getAttribute('data-continue');
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
  for (var i = 0; i < beacons.length; i += 1) {
    var el = beacons[i];
    if (el.tagName === 'IMG' && el.complete) { settle(); continue; }
    el.addEventListener('load', settle, { once: true });
    el.addEventListener('error', settle, { once: true });
  }
  if (pending <= 0) go();
  setTimeout(go, waitMs);
})();
