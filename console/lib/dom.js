// dom.js - builds DOM from data with textContent only: data never becomes markup.
// el('button', {class: 'primary', 'data-action': 'save', 'on:click': fn}, 'Save')

export function el(tag, attrs, ...children) {
  const n = tag === 'svg' || tag === 'path' || tag === 'rect' || tag === 'g' || tag === 'line' || tag === 'text' || tag === 'polyline' || tag === 'circle'
    ? document.createElementNS('http://www.w3.org/2000/svg', tag)
    : document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on:')) {
        n.addEventListener(k.slice(3), v);
      } else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled') {
        n[k] = v;
      } else if (k === 'innerHTML' || k === 'outerHTML' || k.startsWith('on')) {
        throw new Error('el: refused attribute ' + k);
      } else {
        n.setAttribute(k, v === true ? '' : String(v));
      }
    }
  }
  append(n, children);
  return n;
}

function append(n, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(n, c);
    else if (c instanceof Node) n.appendChild(c);
    else n.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(n) {
  while (n.firstChild) n.removeChild(n.firstChild);
  return n;
}

// A labelled form field: <label>text <input name=...></label> wrapped for layout.
export function field(label, input, hint) {
  const id = 'f-' + Math.random().toString(36).slice(2, 9);
  input.id = id;
  return el('div', { class: 'field' },
    el('label', { for: id }, label),
    input,
    hint ? el('div', { class: 'hint' }, hint) : null);
}

// Form values by input name (checkboxes as booleans, empty strings left out).
export function formValues(form) {
  const out = {};
  for (const e of form.elements) {
    if (!e.name) continue;
    if (e.type === 'checkbox') out[e.name] = e.checked;
    else if (e.type === 'file') out[e.name] = e.files && e.files[0];
    else if (e.value !== '') out[e.name] = e.value;
  }
  return out;
}
