// Progressive enhancement for the upload page: drag and drop anywhere, one progress bar per file, and the
// analyser's answer shown in place (including a choice of candidates when the version is ambiguous). Without this
// script the page's plain form still uploads.
(function () {
  const zone = document.querySelector('[data-upload]');
  if (!zone) return;
  const list = document.getElementById('uploads');
  const input = zone.querySelector('input[type=file]');
  const platformSelect = zone.querySelector('select[name=platform]');
  const csrf = zone.querySelector('input[name=_csrf]');

  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => (k === 'class' ? (node.className = v) : node.setAttribute(k, v)));
    children.flat().forEach((c) => node.append(c));
    return node;
  };

  function upload(file, params, item) {
    item.replaceChildren(el('strong', {}, file.name), ' ', el('span', { class: 'muted' }, `${file.size} bytes`));
    const bar = el('progress', { max: '100', value: '0', 'aria-label': `upload progress of ${file.name}` });
    item.append(bar);
    const query = new URLSearchParams({ filename: file.name, ...params });
    const request = new XMLHttpRequest();
    request.open('POST', `/api/v1/firmware?${query}`);
    request.setRequestHeader('content-type', 'application/octet-stream');
    if (csrf) request.setRequestHeader('x-csrf-token', csrf.value);
    request.upload.onprogress = (e) => e.lengthComputable && (bar.value = Math.round((e.loaded / e.total) * 100));
    request.onload = () => {
      bar.value = 100;
      let body = {};
      try {
        body = JSON.parse(request.responseText);
      } catch {
        /* not JSON */
      }
      showResult(file, item, request.status, body);
    };
    request.onerror = () => item.append(el('div', { class: 'message error' }, 'The upload did not reach the server.'));
    request.send(file);
  }

  function showResult(file, item, status, body) {
    if (status === 201) {
      const img = body.image;
      const how =
        body.identity && body.identity.version ? body.identity.version.evidence || body.identity.version.source : '';
      item.append(
        el(
          'div',
          { class: 'message success', role: 'status' },
          `${body.platform.name} ${img.version} (${img.chip || 'filesystem'}) uploaded${body.released ? ' and released' : ', not released'}. `,
          el('span', { class: 'muted' }, `Version: ${how}. `),
          el('a', { href: `/platforms/${encodeURIComponent(body.platform.name)}` }, 'Open platform'),
        ),
      );
      // Kept: say why, and offer the release where its confirmation ("N devices will move…") is shown.
      if (!body.released && body.release) {
        item.append(
          el(
            'div',
            { class: 'message', 'data-release-code': body.release.code },
            `Not released: ${body.release.reason} (${body.release.code}). `,
            el(
              'a',
              {
                href: `/platforms/${encodeURIComponent(body.platform.name)}?release=${img.id}#release-${img.id}`,
              },
              `Release ${img.version}…`,
            ),
          ),
        );
      }
      return;
    }
    const box = el('div', { class: 'message error', role: 'alert' }, body.message || `The server answered ${status}.`);
    item.append(box);
    const details = body.details || {};
    // Refusals a person may override on purpose: another project's build, or a label instead of a version.
    const override = {
      'project-mismatch': ['force', 'Upload anyway'],
      'invalid-version': ['label', 'Store as a label'],
    };
    if (override[body.error]) {
      const [flag, label] = override[body.error];
      const again = el('button', { type: 'button', class: 'secondary' }, label);
      again.onclick = () => upload(file, { ...formParams(), [flag]: 'true' }, item);
      box.append(' ', again);
    }
    if (body.error === 'identity-needed' || body.error === 'unknown-platform') {
      const candidates = (details.identity && details.identity.version && details.identity.version.candidates) || [];
      const form = el('form', { class: 'row' });
      if (details.needs && details.needs.includes('version')) {
        const choice = el(
          'select',
          { name: 'version', 'aria-label': 'version' },
          candidates.map((c) => el('option', { value: c.value }, `${c.value} — "${c.context.slice(0, 40)}"`)),
        );
        form.append(
          el('label', {}, 'Version', choice),
          el(
            'label',
            {},
            'or type it',
            el('input', { name: 'typed', placeholder: '1.2.3', 'aria-label': 'version typed' }),
          ),
        );
      }
      if (body.error === 'unknown-platform' && details.detectedPlatform) {
        form.append(el('input', { type: 'hidden', name: 'create', value: details.detectedPlatform }));
        form.append(el('span', { class: 'muted' }, `Platform "${details.detectedPlatform}" will be created.`));
      }
      form.append(
        el(
          'button',
          { type: 'submit' },
          body.error === 'unknown-platform' ? 'Create platform and upload' : 'Upload with this version',
        ),
      );
      form.onsubmit = async (e) => {
        e.preventDefault();
        const data = new FormData(form);
        const params = {};
        const version = (data.get('typed') || data.get('version') || '').toString().trim();
        if (version) params.version = version;
        if (platformSelect && platformSelect.value) params.platform = platformSelect.value;
        if (data.get('create')) {
          const created = await fetch('/api/v1/platforms', {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(csrf ? { 'x-csrf-token': csrf.value } : {}) },
            body: JSON.stringify({ name: data.get('create') }),
          });
          if (!created.ok && created.status !== 409) return box.append(' Could not create the platform.');
        }
        upload(file, params, item);
      };
      item.append(form);
    }
  }

  // What the form says besides the file: a typed version and the release / label / force boxes.
  function formParams() {
    const form = zone.querySelector('form');
    const params = platformSelect && platformSelect.value ? { platform: platformSelect.value } : {};
    const version = form.querySelector('input[name=version]');
    if (version && version.value.trim()) params.version = version.value.trim();
    for (const name of ['release', 'label', 'force']) {
      const box = form.querySelector(`input[name=${name}]`);
      if (box && box.checked) params[name] = 'true';
    }
    return params;
  }

  function start(files) {
    for (const file of files) {
      const item = el('li', { class: 'upload-item panel' });
      list.prepend(item);
      upload(file, formParams(), item);
    }
  }

  document.addEventListener('dragover', (e) => {
    e.preventDefault();
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', (e) => {
    if (!e.relatedTarget) document.body.classList.remove('dragging');
  });
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    document.body.classList.remove('dragging');
    if (e.dataTransfer && e.dataTransfer.files.length) start(e.dataTransfer.files);
  });
  zone.querySelector('form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (input.files.length) start(input.files);
  });
})();

// Forms that change a lot at once (abort, roll back) ask first; without this script they submit directly.
document.addEventListener('submit', (event) => {
  const question = event.target instanceof HTMLFormElement && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
