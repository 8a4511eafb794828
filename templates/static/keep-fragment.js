// A sign-in page's address may end in the #fragment of the site page that sent the user here
// (the browser carries it across redirects). A form's POST drops it: this puts it on the forms
// marked `data-keep-fragment`, so the answer's address keeps it, and the sync page
// (sync.js) carries it on to the site page the sign-in returns to.
(function () {
  var hash = window.location.hash;
  if (!hash || hash.length > 2048) return;
  var forms = document.querySelectorAll('form[data-keep-fragment]');
  for (var i = 0; i < forms.length; i += 1) {
    var action = forms[i].getAttribute('action') || '';
    if (action.indexOf('#') < 0) forms[i].setAttribute('action', action + hash);
  }
})();
