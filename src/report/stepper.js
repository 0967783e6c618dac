/**
 * The review page's script (inlined by src/report/html.ts; it runs in the
 * browser, with no network). `#t=TRACE&s=K` shows a counterexample at step
 * K: its row lit in the `CPU0 | CPU1` table, the transitions the step fired
 * lit in the diagrams of the machines it ran, what it changed listed.
 * `#c=MODEL/PROPERTY/A/B` shows one property's verdicts and traces for two
 * variants side by side. The arrow keys step the stepper last used.
 */
(() => {
  const data = JSON.parse(document.getElementById('lifecheck-data').textContent);
  /** The stepper the arrow keys move. */
  let active;

  /** An element with attributes (`class`, `data-*`, properties otherwise) and children (strings become text). */
  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === 'class' || k.startsWith('data-') || k === 'href' || k === 'title') e.setAttribute(k, String(v));
      else e[k] = v;
    }
    for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c);
    return e;
  }

  const steps = (n) => `${n} step${n === 1 ? '' : 's'}`;

  /** A diagram of the page, its SVG cloned from its template. */
  function figure(key) {
    const d = data.diagrams[key];
    const svg = document.getElementById(`diagram-${key}`).content.cloneNode(true);
    return el('figure', { class: 'diagram', 'data-diagram': key, 'data-machine': d.name }, el('figcaption', {}, el('code', {}, d.name), ` (${d.object})`, el('span', { class: 'who' })), svg);
  }

  /**
   * Mounts the stepper of trace `key` in `root`, at step `start`; `onStep`
   * hears each step it moves to. Returns its `go(k)`.
   */
  function stepper(root, key, start, onStep) {
    const t = data.traces[key];
    const n = t.rows.length;
    const columns = t.threads.map(([index]) => index);
    const header = el('tr', {}, el('th', {}, '#'), t.threads.map(([, name]) => el('th', {}, name)), el('th', {}, 'object'));
    const breaks = (i) => t.violation.at === i + 1;
    const rows = t.rows.map((r, i) =>
      el(
        'tr',
        { 'data-step': i + 1, ...(breaks(i) ? { class: 'violation' } : {}) },
        el('td', { class: 'n' }, String(i + 1)),
        columns.map((c) => el('td', {}, c === r.thread ? r.call : '')),
        el('td', {}, r.subject ? `${r.subject}: ${r.state}` : '', breaks(i) ? el('span', { class: 'mark' }, ` ⟵ ${t.violation.property}`) : undefined),
      ),
    );
    const table = el('table', { class: 'steps' }, el('thead', {}, header), el('tbody', {}, rows));
    const where = el('span', { class: 'where' });
    const button = (label, title, to) => el('button', { type: 'button', title, onclick: () => go(to()) }, label);
    let at = 0;
    const first = button('« first', 'the first step (Home)', () => 1);
    const prev = button('◀ back', 'a step back (←)', () => at - 1);
    const next = button('next ▶', 'a step forward (→)', () => at + 1);
    const last = button('last »', 'the breaking step (End)', () => n);
    const link = el('a', { class: 'permalink', title: 'a link to this step' }, 'link to this step');
    const changes = el('div', { class: 'changes' });
    const message = el('div', { class: 'message', hidden: true }, `${t.violation.property} at step ${t.violation.at}: ${t.violation.message}`);
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
    function go(k) {
      at = Math.max(0, Math.min(n, k));
      where.textContent = at === 0 ? `initial of ${n}` : `step ${at} of ${n}`;
      [first.disabled, prev.disabled, next.disabled, last.disabled] = [at <= 1, at === 0, at === n, at === n];
      rows.forEach((r, i) => {
        r.classList.toggle('current', i + 1 === at);
        r.classList.toggle('future', i + 1 > at);
      });
      link.setAttribute('href', `#t=${key}&s=${at}`);
      message.hidden = at !== t.violation.at;
      const changed = at === 0 ? [] : t.changes[at - 1];
      const what = at === 0 ? 'The initial state.' : changed.length ? `What step ${at} changed:` : `Step ${at} changed nothing another CPU can see.`;
      changes.replaceChildren(el('div', {}, what), el('ul', {}, changed.map((c) => el('li', {}, c))));
      for (const [d, f] of figures) {
        f.classList.remove('active');
        // A call's steps are shown while a thread runs them; objects' lifecycles all along.
        f.hidden = Boolean(data.diagrams[d].call);
        for (const lit of f.querySelectorAll('.fired, .current, .visited')) lit.classList.remove('fired', 'current', 'visited');
      }
      for (const f of figures.values()) f.querySelector('.who').textContent = '';
      for (const [d, edges] of at === 0 ? [] : t.fired[at - 1]) {
        const f = figures.get(d);
        f.classList.add('active');
        f.hidden = false;
        // Whose run this is, or which object's lifecycle: the step's thread, or the object it touched.
        const row = t.rows[at - 1];
        const who = data.diagrams[d].call ? t.threads.find(([index]) => index === row.thread)?.[1] : row.subject;
        if (who) f.querySelector('.who').textContent = `: ${who}`;
        edges.forEach((e, i) => {
          f.querySelector(`tspan[data-edge="${e}"]`)?.classList.add('fired');
          for (const g of f.querySelectorAll('g.edge')) if (g.dataset.edges.split(' ').includes(String(e))) g.classList.add('fired');
          const state = f.querySelector(`g.state[data-state="${CSS.escape(data.diagrams[d].to[e])}"]`);
          state?.classList.add(i === edges.length - 1 ? 'current' : 'visited');
        });
      }
      onStep?.(at);
    }
    const controller = { go, get at() { return at; }, n };
    root.addEventListener('pointerdown', () => (active = controller));
    go(start);
    active = controller;
    return controller;
  }

  /** The trace view: one counterexample, its step in the address (replaced as it steps, so the address is the permalink). */
  function showTrace(key, step) {
    const section = document.getElementById('trace');
    const t = data.traces[key];
    if (!t) return hideTrace();
    section.hidden = false;
    document.querySelectorAll('.matrix td.selected').forEach((td) => td.classList.remove('selected'));
    document.querySelector(`.matrix a[href="#t=${key}"]`)?.parentElement.classList.add('selected');
    const close = el('a', { href: `#model-${t.model}`, class: 'close' }, '× close');
    const body = el('div');
    section.replaceChildren(el('h2', {}, `${t.model}: a counterexample `, close), body);
    stepper(body, key, step, (k) => history.replaceState(null, '', `#t=${key}&s=${k}`));
    section.scrollIntoView();
  }

  function hideTrace() {
    document.getElementById('trace').hidden = true;
  }

  // Two variants side by side.
  const pickers = document.querySelector('#compare .pickers');
  const panes = document.querySelector('#compare .panes');
  const select = (label, onchange) => {
    const s = el('select', { onchange });
    pickers.append(el('label', {}, `${label} `, s));
    return s;
  };
  const pickModel = select('model', () => compare(modelOf().name));
  const pickProperty = select('property', () => compare(modelOf().name, pickProperty.value));
  const pickA = select('variant', () => compare(modelOf().name, pickProperty.value, pickA.value, pickB.value));
  const pickB = select('against', () => compare(modelOf().name, pickProperty.value, pickA.value, pickB.value));
  const options = (s, values, chosen) => {
    s.replaceChildren(...values.map((v) => el('option', { value: v, selected: v === chosen }, v)));
    s.value = chosen;
  };
  const modelOf = () => data.models.find((m) => m.name === pickModel.value) ?? data.models[0];

  /** The first pair of variants where one breaks `property` and the other keeps it: what a fix changes. */
  function contrast(m, property) {
    const verdict = (v) => m.cells[v.name]?.[property]?.status;
    const a = m.variants.find((v) => verdict(v) === 'violated') ?? m.variants[0];
    const b = m.variants.find((v) => verdict(v) === 'holds' && v !== a) ?? m.variants.find((v) => v !== a) ?? a;
    return [a.name, b.name];
  }

  /** A property some variants break and others keep, else the first. */
  function contrasted(m) {
    const split = m.properties.find((p) => {
      const got = new Set(m.variants.map((v) => m.cells[v.name]?.[p.id]?.status));
      return got.has('violated') && got.has('holds');
    });
    return (split ?? m.properties[0]).id;
  }

  /** Shows `property` of `model` for variants `a` and `b`, choosing what is not given. */
  function compare(model, property, a, b, push = true) {
    const m = data.models.find((x) => x.name === model) ?? data.models[0];
    const p = m.properties.some((x) => x.id === property) ? property : contrasted(m);
    const names = m.variants.map((v) => v.name);
    const [ca, cb] = contrast(m, p);
    const va = names.includes(a) ? a : ca;
    const vb = names.includes(b) ? b : cb;
    options(pickModel, data.models.map((x) => x.name), m.name);
    options(pickProperty, m.properties.map((x) => x.id), p);
    options(pickA, names, va);
    options(pickB, names, vb);
    panes.replaceChildren(pane(m, p, va), pane(m, p, vb));
    if (push) history.replaceState(null, '', `#c=${[m.name, p, va, vb].map(encodeURIComponent).join('/')}`);
  }

  function pane(m, property, variant) {
    const cell = m.cells[variant]?.[property];
    const v = m.variants.find((x) => x.name === variant);
    const status = cell?.status ?? 'n/a';
    const verdict = {
      violated: () => `✗ broken in ${steps(data.traces[cell.trace].rows.length)}`,
      holds: () => v.holds,
      unknown: () => '? not decided',
      'n/a': () => '– not a property of this variant',
    }[status]();
    const body = el('div');
    const root = el('div', { class: 'pane', 'data-variant': variant }, el('h3', {}, el('code', {}, variant), `: ${v.title}`), el('div', { class: `verdict ${status}` }, `${property}: ${verdict}`), body);
    if (cell?.trace) stepper(body, cell.trace, 1);
    return root;
  }

  /** Shows what the address names: a trace at a step, or a comparison. */
  function route() {
    const hash = decodeURIComponent(location.hash.slice(1));
    const trace = /^t=([^&]+)(?:&s=(\d+))?$/.exec(hash);
    if (trace) return showTrace(trace[1], trace[2] === undefined ? 1 : Number(trace[2]));
    hideTrace();
    const cmp = /^c=([^/]*)\/([^/]*)\/([^/]*)\/([^/]*)$/.exec(location.hash.slice(1));
    if (cmp) {
      compare(...cmp.slice(1).map(decodeURIComponent), false);
      document.getElementById('compare').scrollIntoView();
    }
  }

  document.addEventListener('keydown', (e) => {
    if (!active || e.target instanceof HTMLSelectElement || e.altKey || e.ctrlKey || e.metaKey) return;
    const to = { ArrowRight: active.at + 1, ArrowLeft: active.at - 1, Home: 1, End: active.n }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    active.go(to);
  });
  window.addEventListener('hashchange', route);
  compare(data.models[0]?.name, undefined, undefined, undefined, false);
  route();
})();
