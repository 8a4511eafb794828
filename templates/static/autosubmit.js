// Submits the sign-out form when the request carried a valid id_token_hint.
(function () {
  var button = document.querySelector('[data-autosubmit]');
  if (button) button.click();
})();
