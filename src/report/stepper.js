/**
 * The review page's script (inlined by src/report/html.ts; it runs in the
 * browser, with no network). `#t=TRACE&s=K` shows a counterexample at step
 * K: its row lit in the `CPU0 | CPU1` table, the transitions the step fired
 * lit in the diagrams of the machines it ran, what it changed listed.
 * `#c=MODEL/PROPERTY/A/B` shows one property's verdicts and traces for two
 * variants side by side. The arrow keys step the stepper last used.
 */
// @ts-check
/// <reference lib="dom" />
/** @typedef {import('./html.ts').PageData} PageData */
/** @typedef {import('./html.ts').PageModel} PageModel */
/** @typedef {{ go(k: number): void; readonly root: HTMLElement; readonly at: number; readonly n: number }} Stepper */
/** @typedef {Node | string | undefined | null | readonly (Node | string)[]} Child */

(() => {
  /** The element `id` names, which the page always has. */
  const byId = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
  /** @type {PageData} */
  const data = JSON.parse(byId('lifecheck-data').textContent ?? '{}');
  /** The stepper the arrow keys move: the one last clicked or focused, or the trace just opened. @type {Stepper | undefined} */
  let active;

  /**
   * An element with attributes (`class`, `data-*`, `href`, `title`; properties otherwise) and children (strings become text).
   * @template {keyof HTMLElementTagNameMap} K
   * @param {K} tag
   * @param {Record<string, unknown>} attrs
   * @param {Child[]} children
   * @returns {HTMLElementTagNameMap[K]}
   */
  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'class' || k.startsWith('data-') || k === 'href' || k === 'title') e.setAttribute(k, String(v));
      else /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (e))[k] = v;
    }
    for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c);
    return e;
  }

  const steps = (/** @type {number} */ n) => `${n} step${n === 1 ? '' : 's'}`;

  /** What the page's data holds under `key`, which the page itself wrote there. */
  const must = /** @type {<T>(x: T | undefined) => T} */ ((x) => {
    if (x === undefined) throw new Error('the page data lacks what it names');
    return x;
  });

  /** A diagram of the page, its SVG cloned from its template. */
  function figure(/** @type {string} */ key) {
    const d = must(data.diagrams[key]);
    const svg = /** @type {HTMLTemplateElement} */ (byId(`diagram-${key}`)).content.cloneNode(true);
    return el('figure', { class: 'diagram', 'data-diagram': key, 'data-machine': d.name }, el('figcaption', {}, el('code', {}, d.name), ` (${d.object})`, el('span', { class: 'who' })), svg);
  }

  /**
   * Mounts the stepper of trace `key` in `root`, at step `start`; `onStep`
   * hears each step it moves to.
   * @param {HTMLElement} root
   * @param {string} key
   * @param {number} start
   * @param {(k: number) => void} [onStep]
   * @returns {Stepper}
   */
  function stepper(root, key, start, onStep) {
    const t = must(data.traces[key]);
    const n = t.rows.length;
    const columns = t.threads.map(([index]) => index);
    const header = el('tr', {}, el('th', {}, '#'), t.threads.map(([, name]) => el('th', {}, name)), el('th', {}, 'object'));
    const breaks = (/** @type {number} */ i) => t.violation.at === i + 1;
    const rows = t.rows.map((r, i) =>
      el(
        'tr',
        { 'data-step': i + 1, ...(breaks(i) ? { class: 'violation' } : {}) },
        el('td', { class: 'n' }, String(i + 1)),
        columns.map((c) => el('td', {}, c === r.thread ? r.call : '')),
        el('td', {}, r.subject ? `${r.subject}: ${r.state}` : '', breaks(i) ? el('span', { class: 'mark' }, ` ⟵ ${t.property}`) : undefined),
      ),
    );
    const table = el('table', { class: 'steps' }, el('thead', {}, header), el('tbody', {}, rows));
    const where = el('span', { class: 'where' });
    const button = (/** @type {string} */ label, /** @type {string} */ title, /** @type {() => number} */ to) => el('button', { type: 'button', title, onclick: () => go(to()) }, label);
    let at = 0;
    const first = button('« first', 'the first step (Home)', () => 1);
    const prev = button('◀ back', 'a step back (←)', () => at - 1);
    const next = button('next ▶', 'a step forward (→)', () => at + 1);
    const last = button('last »', 'the breaking step (End)', () => n);
    const link = el('a', { class: 'permalink', title: 'a link to this step' }, 'link to this step');
    const changes = el('div', { class: 'changes' });
    const message = el('div', { class: 'message', hidden: true }, `${t.property} at step ${t.violation.at}: ${t.violation.message}`);
    const figures = new Map(t.diagrams.map((d) => [d, figure(d)]));
    const box = el('div', { class: 'diagrams' }, [...figures.values()]);
    if (figures.size === 0) box.append(el('p', {}, 'The model draws no machine this trace runs.'));
    root.replaceChildren(
      el(
        'div',
        { class: 'stepper', 'data-trace': key },
        el('h3', {}, el('code', {}, t.variant), ` breaks ${t.property} in ${steps(n)}`),
        el('div', { class: 'title' }, t.title),
        el('div', { class: 'controls' }, first, prev, where, next, last, link),
        el('div', { class: 'grid' }, el('div', {}, table, message, changes), box),
      ),
    );

    /** Lights step k (0: the initial state): its row, its transitions and their targets, its changes. */
    function go(/** @type {number} */ k) {
      at = Math.max(0, Math.min(n, k));
      where.textContent = at === 0 ? `initial of ${n}` : `step ${at} of ${n}`;
      [first.disabled, prev.disabled, next.disabled, last.disabled] = [at <= 1, at === 0, at === n, at === n];
      rows.forEach((r, i) => {
        r.classList.toggle('current', i + 1 === at);
        r.classList.toggle('future', i + 1 > at);
      });
      link.setAttribute('href', `#t=${key}&s=${at}`);
      message.hidden = at !== t.violation.at;
      const changed = at === 0 ? [] : (t.changes[at - 1] ?? []);
      const what = at === 0 ? 'The initial state.' : changed.length ? `What step ${at} changed:` : `Step ${at} changed only its thread's own place and locals.`;
      changes.replaceChildren(el('div', {}, what), el('ul', {}, changed.map((c) => el('li', {}, c))));
      for (const [d, f] of figures) {
        f.classList.remove('active');
        // A call's steps are shown while a thread runs them; objects' lifecycles all along.
        f.hidden = Boolean(data.diagrams[d]?.call);
        for (const lit of f.querySelectorAll('.fired, .current, .visited')) lit.classList.remove('fired', 'current', 'visited');
      }
      const whose = (/** @type {HTMLElement} */ f) => /** @type {HTMLElement} */ (f.querySelector('.who'));
      for (const f of figures.values()) whose(f).textContent = '';
      const row = at === 0 ? undefined : t.rows[at - 1];
      for (const [d, edges] of row ? (t.fired[at - 1] ?? []) : []) {
        const f = figures.get(d);
        if (!f || !row) continue;
        f.classList.add('active');
        f.hidden = false;
        // Whose run this is, or which object's lifecycle: the step's thread, or the object it touched.
        const who = data.diagrams[d]?.call ? t.threads.find(([index]) => index === row.thread)?.[1] : row.subject;
        if (who) whose(f).textContent = `: ${who}`;
        edges.forEach((e, i) => {
          f.querySelector(`tspan[data-edge="${e}"]`)?.classList.add('fired');
          for (const g of f.querySelectorAll('g.edge')) if (g.getAttribute('data-edges')?.split(' ').includes(String(e))) g.classList.add('fired');
          const state = f.querySelector(`g.state[data-state="${CSS.escape(data.diagrams[d]?.to[e] ?? '')}"]`);
          state?.classList.add(i === edges.length - 1 ? 'current' : 'visited');
        });
      }
      onStep?.(at);
    }
    /** @type {Stepper} */
    const controller = { go, root, get at() { return at; }, n };
    const use = () => (active = controller);
    root.addEventListener('pointerdown', use);
    root.addEventListener('focusin', use);
    go(start);
    return controller;
  }

  /** The trace view: one counterexample, its step in the address (replaced as it steps, so the address is the permalink). */
  function showTrace(/** @type {string} */ key, /** @type {number} */ step) {
    const section = byId('trace');
    const t = data.traces[key];
    if (!t) return hideTrace();
    section.hidden = false;
    document.querySelectorAll('.matrix td.selected').forEach((td) => td.classList.remove('selected'));
    document.querySelector(`.matrix a[href="#t=${CSS.escape(key)}"]`)?.parentElement?.classList.add('selected');
    const close = el('a', { href: `#model-${t.model}`, class: 'close' }, '× close');
    const body = el('div');
    section.replaceChildren(el('h2', {}, `${t.model}: a counterexample `, close), body);
    active = stepper(body, key, step, (k) => history.replaceState(null, '', `#t=${key}&s=${k}`));
    section.scrollIntoView();
  }

  function hideTrace() {
    const section = byId('trace');
    section.hidden = true;
    section.replaceChildren();
  }

  // Two variants side by side.
  const pickers = /** @type {HTMLElement} */ (document.querySelector('#compare .pickers'));
  const panes = /** @type {HTMLElement} */ (document.querySelector('#compare .panes'));
  const select = (/** @type {string} */ label, /** @type {() => void} */ onchange) => {
    const s = el('select', { onchange });
    pickers.append(el('label', {}, `${label} `, s));
    return s;
  };
  const pickModel = select('model', () => compare(modelOf().name));
  const pickProperty = select('property', () => compare(modelOf().name, pickProperty.value));
  const pickA = select('variant', () => compare(modelOf().name, pickProperty.value, pickA.value, pickB.value));
  const pickB = select('against', () => compare(modelOf().name, pickProperty.value, pickA.value, pickB.value));
  const options = (/** @type {HTMLSelectElement} */ s, /** @type {string[]} */ values, /** @type {string} */ chosen) => {
    s.replaceChildren(...values.map((v) => el('option', { value: v, selected: v === chosen }, v)));
    s.value = chosen;
  };
  const modelOf = () => must(data.models.find((m) => m.name === pickModel.value) ?? data.models[0]);

  /** The first pair of variants where one breaks `property` and the other keeps it: what a fix changes. */
  function contrast(/** @type {PageModel} */ m, /** @type {string} */ property) {
    const verdict = (/** @type {PageModel['variants'][number]} */ v) => m.cells[v.name]?.[property]?.status;
    const a = m.variants.find((v) => verdict(v) === 'violated') ?? m.variants[0];
    const b = m.variants.find((v) => verdict(v) === 'holds' && v !== a) ?? m.variants.find((v) => v !== a) ?? a;
    return [a?.name ?? '', b?.name ?? ''];
  }

  /** A property some variants break and others keep, else the first. */
  function contrasted(/** @type {PageModel} */ m) {
    const split = m.properties.find((p) => {
      const got = new Set(m.variants.map((v) => m.cells[v.name]?.[p.id]?.status));
      return got.has('violated') && got.has('holds');
    });
    return (split ?? m.properties[0])?.id ?? '';
  }

  /**
   * Shows `property` of `model` for variants `a` and `b`, choosing what is not given.
   * @param {string | undefined} model
   * @param {string} [property]
   * @param {string} [a]
   * @param {string} [b]
   */
  function compare(model, property, a, b, push = true) {
    const m = data.models.find((x) => x.name === model) ?? data.models[0];
    if (!m) return;
    const p = property !== undefined && m.properties.some((x) => x.id === property) ? property : contrasted(m);
    const names = m.variants.map((v) => v.name);
    const [ca = '', cb = ''] = contrast(m, p);
    const va = a !== undefined && names.includes(a) ? a : ca;
    const vb = b !== undefined && names.includes(b) ? b : cb;
    options(pickModel, data.models.map((x) => x.name), m.name);
    options(pickProperty, m.properties.map((x) => x.id), p);
    options(pickA, names, va);
    options(pickB, names, vb);
    panes.replaceChildren(pane(m, p, va), pane(m, p, vb));
    if (push) history.replaceState(null, '', `#c=${[m.name, p, va, vb].map(encodeURIComponent).join('/')}`);
  }

  /** One variant's side: its verdict on `property`, and its counterexample's stepper. */
  function pane(/** @type {PageModel} */ m, /** @type {string} */ property, /** @type {string} */ variant) {
    const cell = m.cells[variant]?.[property];
    const v = m.variants.find((x) => x.name === variant);
    const status = cell?.status ?? 'n/a';
    const trace = cell?.trace === undefined ? undefined : data.traces[cell.trace];
    const verdict = {
      violated: () => (trace ? `✗ broken in ${steps(trace.rows.length)}` : '✗ broken'),
      holds: () => v?.holds ?? '✓',
      unknown: () => '? not decided',
      'n/a': () => '– not a property of this variant',
    }[status]();
    const body = el('div');
    const root = el('div', { class: 'pane', 'data-variant': variant }, el('h3', {}, el('code', {}, variant), `: ${v?.title ?? ''}`), el('div', { class: `verdict ${status}` }, `${property}: ${verdict}`), body);
    if (trace && cell?.trace) stepper(body, cell.trace, 1);
    return root;
  }

  /** A name from the address; a malformed escape is no name. */
  const decoded = (/** @type {string} */ part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return undefined;
    }
  };

  /** Shows what the address names: a trace at a step (its key as written, escaped), or a comparison. */
  function route() {
    const hash = location.hash.slice(1);
    const trace = /^t=([^&]+)(?:&s=(\d+))?$/.exec(hash);
    if (trace) return showTrace(trace[1] ?? '', trace[2] === undefined ? 1 : Number(trace[2]));
    hideTrace();
    const cmp = /^c=([^/]*)\/([^/]*)\/([^/]*)\/([^/]*)$/.exec(hash);
    if (cmp) {
      const [model, property, a, b] = cmp.slice(1).map((part) => decoded(part ?? ''));
      compare(model, property, a, b, false);
      byId('compare').scrollIntoView();
    }
  }

  /** Whether the arrow keys may move `s`: it is on the page and shown. */
  const shown = (/** @type {Stepper | undefined} */ s) => s !== undefined && s.root.isConnected && !s.root.closest('[hidden]');

  document.addEventListener('keydown', (e) => {
    const typing = e.target instanceof HTMLSelectElement || e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement;
    if (!active || !shown(active) || typing || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    /** @type {Record<string, number>} */
    const moves = { ArrowRight: active.at + 1, ArrowLeft: active.at - 1, Home: 1, End: active.n };
    const to = moves[e.key];
    if (to === undefined) return;
    e.preventDefault();
    active.go(to);
  });
  window.addEventListener('hashchange', route);
  compare(data.models[0]?.name, undefined, undefined, undefined, false);
  route();
})();
