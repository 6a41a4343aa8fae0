// Small behaviours shared by several pages (the upload page's own script is app.js). No inline script anywhere:
// the CSP allows scripts from /static only.
(function () {
  // The dashboard's live regions ([data-live]) refresh every few seconds; a refresh that would replace the element
  // someone is on (a link they tabbed to, text they are selecting) waits for the next round instead, so the
  // refresh never moves keyboard focus.
  document.addEventListener('htmx:beforeRequest', (event) => {
    const active = document.activeElement;
    if (!active || active === document.body) return;
    if (event.target.closest && event.target.closest('[data-live]') && active.closest('[data-live]')) {
      event.preventDefault();
    }
  });

  // Copy buttons: <button data-copy="id-of-element"> copies that element's text.
  document.addEventListener('click', async (event) => {
    const button = event.target.closest && event.target.closest('button[data-copy]');
    if (!button) return;
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    const label = button.textContent;
    try {
      await navigator.clipboard.writeText(source.textContent);
      button.textContent = 'Copied';
    } catch {
      // No clipboard (plain http on another host): select the text so Ctrl+C works.
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      button.textContent = 'Selected: press Ctrl+C';
    }
    setTimeout(() => (button.textContent = label), 2000);
  });
})();
