// LDN portals: progressive enhancement only; every page works without this file.
// Loaded as an external script so the Content-Security-Policy can forbid inline scripts.

// BSN 11-test (elfproef), the same rule the server applies.
function isValidBsn(value) {
  if (!/^\d{9}$/.test(value) || value === '000000000') return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (9 - i) * Number(value[i]);
  sum -= Number(value[8]);
  return sum % 11 === 0;
}

for (const input of document.querySelectorAll('input[data-bsn]')) {
  const message = input.getAttribute('data-invalid-message') || 'Invalid BSN';
  const check = () => {
    const v = input.value.trim();
    const ok = v === '' || isValidBsn(v);
    input.setCustomValidity(ok ? '' : message);
    input.setAttribute('aria-invalid', ok ? 'false' : 'true');
  };
  input.addEventListener('input', check);
  input.form?.addEventListener('submit', (event) => {
    check();
    if (!input.checkValidity()) {
      event.preventDefault();
      input.reportValidity();
    }
  });
}

// Consent form: show only the field that belongs to the chosen scope.
for (const form of document.querySelectorAll('form[data-consent-form]')) {
  const update = () => {
    const chosen = form.querySelector('input[name="scope"]:checked');
    for (const el of form.querySelectorAll('[data-scope-field]')) {
      el.classList.toggle('js-hidden', !chosen || el.getAttribute('data-scope-field') !== chosen.value);
    }
  };
  form.addEventListener('change', update);
  update();
}
