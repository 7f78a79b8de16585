// QuantViz live number line: a Streamlit components.v2 component (inline, no build step, no network).
//
// The arithmetic below interprets the rule data that quantviz.conventions.live exports (passed in `data.rules`);
// it names no convention. Float32 steps are rounded with Math.fround, ties are tested exactly (t - floor(t) is
// exact), PyTorch's fused multiply-add is emulated by rounding to odd. tests/browser/test_live.py holds the results
// equal to quantviz's on thousands of cases per convention. User text is never written as HTML (textContent only).

const SVG_NS = "http://www.w3.org/2000/svg";

// ---------------------------------------------------------------------------------------------- the arithmetic
const cast = (x, dtype) => (dtype === "float32" ? Math.fround(x) : x);

function roundMode(t, mode) {
  if (!Number.isFinite(t)) return t;
  if (mode === "half_to_even") {
    const whole = Math.floor(t);
    const d = t - whole;
    return d > 0.5 || (d === 0.5 && Math.abs(whole % 2) === 1) ? whole + 1 : whole;
  }
  if (mode === "half_away_from_zero") {
    const a = Math.abs(t);
    const whole = Math.floor(a);
    const r = whole + (a - whole >= 0.5 ? 1 : 0);
    return t < 0 ? -r : r;
  }
  if (mode === "half_up") {
    const whole = Math.floor(t);
    return whole + (t - whole >= 0.5 ? 1 : 0);
  }
  if (mode === "floor") return Math.floor(t);
  if (mode === "ceil") return Math.ceil(t);
  if (mode === "toward_zero") return Math.trunc(t);
  throw new Error(`rounding ${mode} is computed on the server only`);
}

const scratch = new DataView(new ArrayBuffer(8));

function nextAfter(x, up) {
  if (x === 0) return up ? Number.MIN_VALUE : -Number.MIN_VALUE;
  scratch.setFloat64(0, x);
  const bits = scratch.getBigInt64(0);
  scratch.setBigInt64(0, (x > 0) === up ? bits + 1n : bits - 1n);
  return scratch.getFloat64(0);
}

// float32 a*b + c rounded once: a*b is exact in float64 (two 24-bit significands), the sum is rounded to odd
// (TwoSum gives its error), after which the rounding to float32 is correct.
function fma32(a, b, c) {
  const p = a * b;
  let s = p + c;
  if (!Number.isFinite(s)) return Math.fround(s);
  const bb = s - p;
  const err = (p - (s - bb)) + (c - bb);
  if (err !== 0) {
    scratch.setFloat64(0, s);
    if ((scratch.getUint8(7) & 1) === 0) s = nextAfter(s, err > 0);
  }
  return Math.fround(s);
}

// A finite double as an exact integer multiple of 2^-1074 (every double is one): x = M · 2^-1074.
function exactUnits(x) {
  scratch.setFloat64(0, x);
  const bits = scratch.getBigUint64(0);
  const exponent = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & 0xfffffffffffffn;
  if (exponent !== 0) mantissa |= 1n << 52n;
  const units = mantissa << BigInt(Math.max(exponent - 1, 0));
  return bits >> 63n ? -units : units;
}

// The fraction n/d (d > 0, BigInt) rounded to an integer by `mode`, exactly: a tie stays a tie.
function roundExact(n, d, mode) {
  let floor = n / d;  // BigInt division truncates toward zero
  if (n % d !== 0n && n < 0n) floor -= 1n;
  const rest = n - floor * d;  // 0 <= rest < d
  let out;
  if (mode === "floor") out = floor;
  else if (mode === "ceil") out = floor + (rest > 0n ? 1n : 0n);
  else if (mode === "toward_zero") out = floor + (rest > 0n && n < 0n ? 1n : 0n);
  else if (2n * rest !== d) out = floor + (2n * rest > d ? 1n : 0n);
  else if (mode === "half_to_even") out = floor + (floor % 2n !== 0n ? 1n : 0n);
  else if (mode === "half_away_from_zero") out = floor + (n > 0n ? 1n : 0n);
  else if (mode === "half_up") out = floor + 1n;
  else throw new Error(`no exact rounding for ${mode}`);
  return Number(out);
}

const gridKey = (o) => [o.bits, o.signed, o.symmetric, o.narrow_range, o.reduce_range].map((v) => Number(v)).join(",");

export function makeLive(rules) {
  function choose(args) {
    const { rmin, rmax, convention } = args;
    const conv = rules.conventions[convention];
    if (!conv) return { error: `unknown convention ${convention}` };
    if (!Number.isFinite(rmin) || !Number.isFinite(rmax)) return { error: "the range ends must be finite numbers" };
    if (rmin > rmax) return { error: "the range minimum is larger than the maximum" };
    if (Math.max(Math.abs(rmin), Math.abs(rmax)) > rules.limit) return { error: "the range is too large for float32" };
    const grid = conv.grids[gridKey(args)];
    if (!grid) return { error: `${conv.label} does not support these options` };
    const rd = conv.range_dtype;
    const sd = conv.scale_dtype;
    let lo = cast(rmin, rd);
    let hi = cast(rmax, rd);
    if (conv.need_lo_lt_hi && !(lo < hi)) return { error: `${conv.label} needs min < max` };
    const given = [lo, hi];
    if (conv.widen) {
      lo = Math.min(lo, 0);
      hi = Math.max(hi, 0);
    }
    const { qmin, qmax, shift } = grid;
    const zmin = qmin - shift;
    const zmax = qmax - shift;
    let unrounded;
    let zero = null;
    if (args.symmetric) {
      const sym = conv.symmetric;
      const absmax = sym.absmax_of === "widened" ? Math.max(-lo, hi) : Math.max(Math.abs(given[0]), Math.abs(given[1]));
      lo = -absmax;
      hi = absmax;
      unrounded = absmax === 0 && sym.zero_absmax === "unit_scale" ? 1 : cast(cast(absmax, sd) / grid.half, sd);
      zero = grid.zsym;
    } else if (conv.empty === "unit_scale" && hi === lo) {
      unrounded = 1;
      zero = Math.min(Math.max(0, qmin), qmax);
    } else {
      if (conv.empty === "widen_near_zero" && hi - lo < rules.near_zero) {
        lo -= rules.near_zero;
        hi += rules.near_zero;
      }
      unrounded = cast(cast(cast(hi, sd) - cast(lo, sd), sd) / (zmax - zmin), sd);
    }
    if (conv.scale_floor !== null) unrounded = Math.max(unrounded, conv.scale_floor);
    if (conv.tiny_scale === "unit_scale_zero_z" && unrounded < rules.f32_tiny) {
      unrounded = 1;
      zero = 0;
    }
    if (zero === null) {
      const z = conv.zero;
      let quotient;
      if (z.quotient === "exact_ratio") {
        // qmin − lo·(qmax − qmin)/(hi − lo) = (qmin·(b − a) − a·steps) / (b − a), with lo = a·2^-1074, hi = b·2^-1074
        const a = exactUnits(lo);
        const b = exactUnits(hi);
        const steps = BigInt(zmax - zmin);
        const rounded = roundExact(BigInt(zmin) * (b - a) - a * steps, b - a, z.tie);
        zero = (z.clamp === "after" ? Math.min(Math.max(rounded, zmin), zmax) : rounded) + shift;
      } else {
        const used = z.quotient_scale === "stored" ? cast(unrounded, conv.scale_stored) : unrounded;
        quotient = cast(lo / used, z.quotient_dtype);
      }
      if (zero === null) {
        let raw = null;
        let rounded = null;
        if (z.round_target === "quotient") rounded = zmin - roundMode(quotient, z.tie);
        else raw = cast(zmin - quotient, z.raw_dtype);
        if (z.clamp === "before" && raw < zmin) zero = zmin;
        else if (z.clamp === "before" && raw > zmax) zero = zmax;
        else {
          if (raw !== null) rounded = roundMode(raw, z.tie);
          zero = z.clamp === "after" ? Math.min(Math.max(rounded, zmin), zmax) : rounded;
        }
        zero += shift;
      }
    }
    const scale = cast(unrounded, conv.scale_stored);
    if (conv.tiny_scale === "error" && !(Number.isFinite(scale) && scale >= rules.f32_tiny)) {
      return { error: "the range is too narrow: the scale would underflow float32" };
    }
    if (!(Number.isFinite(scale) && scale > 0)) return { error: "the scale is not a positive number" };
    if (!(grid.smin <= zero && zero <= grid.smax)) return { error: "the zero point falls outside the grid" };
    return { scale, zero_point: zero, qmin, qmax, storage_min: grid.smin, storage_max: grid.smax, rmin: lo, rmax: hi };
  }

  function quantize(x, params) {
    const conv = rules.conventions[params.convention];
    const q = conv.quantize;
    const tie = q.rounding_choice && params.rounding ? params.rounding : q.tie;
    const s = params.scale;
    const z = params.zero_point;
    const xv = cast(x, q.x_dtype);
    const f = Math.fround;
    if (q.op === "tf_nudge") {
      const lo = f(params.rmin);
      const hi = f(params.rmax);
      // TF's kernel derives 1/s from the range it was given; parameters typed by hand have none (as in tf_nudge).
      const ranged = params.rmin !== null && params.rmin !== undefined && params.rmax !== null &&
        params.rmax !== undefined && params.rmax > params.rmin;
      const inv = ranged ? f((params.qmax - params.qmin) / f(hi - lo)) : f(1 / s);
      const nmin = f((params.qmin - z) * s);
      const nmax = f((params.qmax - z) * s);
      const quantZero = Math.floor(f(f(-nmin * inv) + 0.5));
      const xc = Math.max(Math.min(xv, nmax), nmin);
      const pre = f(f(f(xc - nmin) * inv) - quantZero);
      return Math.floor(f(pre + 0.5)) + z;
    }
    let unclamped;
    if (q.op === "fma_inverse") {
      unclamped = roundMode(fma32(xv, f(1 / s), z), tie);
    } else {
      const pre = q.op === "multiply_inverse" ? cast(xv * cast(1 / s, q.x_dtype), q.x_dtype) : cast(xv / s, q.x_dtype);
      unclamped = params.z_first ? roundMode(pre + z, tie) : roundMode(pre, tie) + z;
    }
    return Math.min(Math.max(unclamped, params.storage_min), params.storage_max);
  }

  function dequantize(code, params) {
    const conv = rules.conventions[params.convention];
    return cast((code - params.zero_point) * params.scale, conv.dequantize_dtype);
  }

  return { choose, quantize, dequantize, gridKey };
}

// ---------------------------------------------------------------------------------------------- formatting
function fmt(x, digits) {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e-4 && a < 10 ** digits) return String(Number(x.toPrecision(digits)));
  return x.toExponential(Math.max(0, digits - 1)).replace(/\.?0+e/, "e");
}

function niceTicks(lo, hi, count) {
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((m) => m >= raw) || raw;
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi && ticks.length < 50; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return ticks;
}

// ---------------------------------------------------------------------------------------------- the component
const instances = new WeakMap();

function el(parent, tag, attrs = {}, ns = SVG_NS) {
  const node = document.createElementNS(ns, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  parent.appendChild(node);
  return node;
}

function build(root, view) {
  const svg = root.querySelector("svg.qv-live-svg");
  const layers = {};
  svg.replaceChildren();
  for (const name of ["zones", "bands", "axes", "ticks", "labels", "codes", "links", "handles"]) layers[name] = el(svg, "g", { class: `qv-${name}` });
  const parts = {
    clipLeft: el(layers.zones, "rect", { class: "qv-clipped" }),
    clipRight: el(layers.zones, "rect", { class: "qv-clipped" }),
    chosen: el(layers.bands, "rect", { class: "qv-chosen" }),
    representable: el(layers.bands, "rect", { class: "qv-representable" }),
    realAxis: el(layers.axes, "line", { class: "qv-axis" }),
    codeAxis: el(layers.axes, "line", { class: "qv-axis" }),
    realTitle: el(layers.axes, "text", { class: "qv-axis-title" }),
    codeTitle: el(layers.axes, "text", { class: "qv-axis-title" }),
    zeroTie: el(layers.links, "line", { class: "qv-zero-tie" }),
    probeLink: el(layers.links, "line", { class: "qv-probe-link" }),
    probeLabel: el(layers.links, "text", { class: "qv-probe-label" }),
    zeroLabel: el(layers.links, "text", { class: "qv-zero-label" }),
  };
  const handle = (name, label, shape) => {
    const g = el(layers.handles, "g", { class: `qv-handle qv-${name}`, tabindex: "0", role: "slider", "aria-label": label, "data-handle": name });
    el(g, "circle", { class: "qv-hit", r: "18" });
    if (shape === "circle") el(g, "circle", { class: "qv-knob", r: "8" });
    else if (shape === "diamond") el(g, "path", { class: "qv-knob", d: "M0,-10 L10,0 L0,10 L-10,0 Z" });
    else el(g, "path", { class: "qv-knob", d: "M0,12 L-8,-4 A9,9 0 1,1 8,-4 Z" });
    return g;
  };
  parts.handles = {
    rmin: handle("rmin", "range minimum rmin", "circle"),
    rmax: handle("rmax", "range maximum rmax", "circle"),
    probe: handle("probe", "probe value x", "pin"),
    zero: handle("zero", "zero point z", "diamond"),
  };
  parts.zeroDot = el(layers.links, "circle", { class: "qv-zero-dot", r: "6" });
  return { svg, layers, parts, view };
}

function makeInstance(root) {
  const inst = { root, dragging: null, pending: false, sent: null };
  inst.dom = build(root);
  inst.readouts = {};
  for (const node of root.querySelectorAll("[data-readout]")) inst.readouts[node.dataset.readout] = node;
  inst.bitsValue = root.querySelector("[data-bits-value]");
  inst.bitsDown = root.querySelector("[data-bits='down']");
  inst.bitsUp = root.querySelector("[data-bits='up']");
  inst.message = root.querySelector("[data-message]");
  return inst;
}

function axisFor(values) {
  const finite = values.filter(Number.isFinite);
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  const pad = 0.15 * (hi - lo || 1);
  lo = Math.max(lo - pad, -1e306);
  hi = Math.min(hi + pad, 1e306);
  return { lo, hi };
}

// Everything the picture shows, from the current values, computed here on every move.
function compute(inst) {
  const v = inst.values;
  const args = { ...inst.options, bits: v.bits, rmin: v.rmin, rmax: v.rmax, convention: inst.convention };
  const params = inst.direct ? inst.direct : inst.live.choose(args);
  if (params.error) return { error: params.error };
  const full = { ...params, convention: inst.convention, rounding: inst.rounding, z_first: inst.zFirst };
  const realMin = (params.qmin - params.zero_point) * params.scale;
  const realMax = (params.qmax - params.zero_point) * params.scale;
  let code = null;
  let probeError = null;
  if (v.probe !== null) {
    if (inst.serverOnly) {
      code = inst.serverProbe && inst.serverProbe.x === v.probe ? inst.serverProbe.q : null;
    } else {
      code = inst.live.quantize(v.probe, full);
    }
    if (code !== null) probeError = inst.live.dequantize(code, full) - v.probe;
  }
  return { params: full, realMin, realMax, code, probeError };
}

function setText(node, text) {
  if (node && node.textContent !== text) node.textContent = text;
}

function draw(inst) {
  const start = performance.now();
  const res = compute(inst);
  inst.result = res;
  const { parts } = inst.dom;
  const W = Math.max(260, inst.root.clientWidth || 600);
  const phone = W < 480;
  const H = phone ? 190 : 200;
  const padX = phone ? 22 : 34;
  const realY = 62;
  const codeY = 142;
  inst.dom.svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  inst.dom.svg.setAttribute("height", String(H));
  inst.geometry = { W, padX, realY, codeY };
  const { lo, hi } = inst.axis;
  const X = (x) => padX + ((x - lo) / (hi - lo)) * (W - 2 * padX);
  const clampX = (x) => Math.min(Math.max(X(x), -1e5), 1e5);
  inst.X = X;
  const v = inst.values;
  setText(inst.bitsValue, `${v.bits}-bit`);
  inst.bitsDown.disabled = inst.frozen || inst.nextBits(-1) === null;
  inst.bitsUp.disabled = inst.frozen || inst.nextBits(1) === null;
  if (res.error) {
    setText(inst.message, `These settings cannot be quantized: ${res.error}.`);
    inst.root.classList.add("qv-has-error");
    performance.measure("qv-live-update", { start, end: performance.now() });
    return;
  }
  inst.root.classList.remove("qv-has-error");
  setText(inst.message, "");
  const p = res.params;
  const set = (node, attrs) => {
    for (const [k, val] of Object.entries(attrs)) node.setAttribute(k, String(val));
  };
  // clipped zones: beyond what the grid represents
  set(parts.clipLeft, { x: X(lo), y: 20, width: Math.max(0, clampX(res.realMin) - X(lo)), height: codeY - 2 });
  set(parts.clipRight, { x: clampX(res.realMax), y: 20, width: Math.max(0, X(hi) - clampX(res.realMax)), height: codeY - 2 });
  set(parts.chosen, { x: clampX(v.rmin), y: realY - 9, width: Math.max(1, clampX(v.rmax) - clampX(v.rmin)), height: 18 });
  set(parts.representable, { x: clampX(res.realMin), y: codeY - 9, width: Math.max(1, clampX(res.realMax) - clampX(res.realMin)), height: 18 });
  set(parts.realAxis, { x1: X(lo), x2: X(hi), y1: realY, y2: realY });
  set(parts.codeAxis, { x1: X(lo), x2: X(hi), y1: codeY, y2: codeY });
  set(parts.realTitle, { x: X(lo), y: 14 });
  setText(parts.realTitle, "real value r");
  set(parts.codeTitle, { x: X(lo), y: H - 6 });
  setText(parts.codeTitle, "integer code q");

  // real ticks
  const ticksLayer = inst.dom.layers.ticks;
  const labelsLayer = inst.dom.layers.labels;
  const realTicks = niceTicks(lo, hi, phone ? 4 : 7);
  const codeTicks = codeLabels(p, lo, hi, phone ? 5 : 9);
  const needed = realTicks.length + codeTicks.length;
  while (ticksLayer.childNodes.length < needed) el(ticksLayer, "line", {});
  while (labelsLayer.childNodes.length < needed) el(labelsLayer, "text", {});
  let i = 0;
  const tickNodes = ticksLayer.childNodes;
  const textNodes = labelsLayer.childNodes;
  let t = 0;
  for (const value of realTicks) {
    set(tickNodes[i++], { class: "qv-tick", x1: X(value), x2: X(value), y1: realY - 5, y2: realY + 5 });
    set(textNodes[t], { class: "qv-tick-label", x: X(value), y: realY - 14 });
    setText(textNodes[t++], fmt(value, 6));
  }
  for (const code of codeTicks) {
    const x = X((code - p.zero_point) * p.scale);
    set(tickNodes[i++], { class: "qv-tick qv-code-tick", x1: x, x2: x, y1: codeY - 6, y2: codeY + 6 });
    set(textNodes[t], { class: "qv-code-label", x, y: codeY + 26 });
    setText(textNodes[t++], String(code));
  }
  for (let j = i; j < tickNodes.length; j++) tickNodes[j].setAttribute("class", "qv-hidden");
  for (let j = t; j < textNodes.length; j++) textNodes[j].setAttribute("class", "qv-hidden");

  // every code as a small mark, when there are few enough on screen
  const codesLayer = inst.dom.layers.codes;
  const first = Math.max(p.qmin, Math.ceil(lo / p.scale + p.zero_point));
  const last = Math.min(p.qmax, Math.floor(hi / p.scale + p.zero_point));
  const count = last - first + 1;
  const marks = count > 0 && count <= 64 ? count : 0;
  while (codesLayer.childNodes.length < marks) el(codesLayer, "line", {});
  for (let j = 0; j < codesLayer.childNodes.length; j++) {
    const node = codesLayer.childNodes[j];
    if (j < marks) {
      const x = X((first + j - p.zero_point) * p.scale);
      set(node, { class: "qv-code-mark", x1: x, x2: x, y1: codeY - 4, y2: codeY + 4 });
    } else node.setAttribute("class", "qv-hidden");
  }

  // real 0 and the zero point are the same place
  const x0 = X(0);
  set(parts.zeroTie, { x1: x0, x2: x0, y1: realY, y2: codeY });
  set(parts.zeroDot, { cx: x0, cy: realY });
  set(parts.zeroLabel, { x: x0 + 8, y: (realY + codeY) / 2 });
  setText(parts.zeroLabel, `0 ↔ z = ${p.zero_point}`);
  const h = parts.handles;
  h.zero.setAttribute("transform", `translate(${x0},${codeY})`);
  h.rmin.setAttribute("transform", `translate(${clampX(v.rmin)},${realY})`);
  h.rmax.setAttribute("transform", `translate(${clampX(v.rmax)},${realY})`);
  const zeroFixed = inst.frozen || inst.options.symmetric || inst.direct;
  h.zero.setAttribute("aria-disabled", zeroFixed ? "true" : "false");
  h.zero.classList.toggle("qv-fixed", Boolean(zeroFixed));
  for (const name of ["rmin", "rmax"]) {
    h[name].setAttribute("aria-disabled", inst.frozen || inst.direct ? "true" : "false");
    h[name].classList.toggle("qv-fixed", Boolean(inst.frozen || inst.direct));
  }
  aria(h.rmin, lo, v.rmax, v.rmin, `rmin = ${fmt(v.rmin, 6)}`);
  aria(h.rmax, v.rmin, hi, v.rmax, `rmax = ${fmt(v.rmax, 6)}`);
  aria(h.zero, p.qmin, p.qmax, p.zero_point, `z = ${p.zero_point}`);
  if (v.probe === null) {
    h.probe.setAttribute("class", "qv-hidden");
    parts.probeLink.setAttribute("class", "qv-hidden");
    parts.probeLabel.setAttribute("class", "qv-hidden");
  } else {
    h.probe.setAttribute("class", "qv-handle qv-probe");
    const xp = clampX(v.probe);
    h.probe.setAttribute("transform", `translate(${xp},${realY - 22})`);
    aria(h.probe, lo, hi, v.probe, `x = ${fmt(v.probe, 8)}${res.code === null ? "" : `, stored as q = ${res.code}`}`);
    if (res.code === null) {
      parts.probeLink.setAttribute("class", "qv-hidden");
      parts.probeLabel.setAttribute("class", "qv-hidden");
    } else {
      const xq = clampX((res.code - p.zero_point) * p.scale);
      set(parts.probeLink, { class: "qv-probe-link", x1: xp, x2: xq, y1: realY, y2: codeY });
      set(parts.probeLabel, { class: "qv-probe-label", x: xq, y: codeY + 44 });
      setText(parts.probeLabel, `q = ${res.code}`);
    }
  }
  // the readouts
  const r = inst.readouts;
  setText(r.scale, fmt(p.scale, 8));
  setText(r.zero, String(p.zero_point));
  setText(r.grid, `[${p.qmin}, ${p.qmax}]`);
  setText(r.representable, `[${fmt(res.realMin, 5)}, ${fmt(res.realMax, 5)}]`);
  setText(r.range, `[${fmt(v.rmin, 6)}, ${fmt(v.rmax, 6)}]`);
  setText(r.probe, v.probe === null ? "—" : fmt(v.probe, 8));
  setText(r.code, res.code === null ? "on release" : String(res.code));
  setText(r.error, res.probeError === null ? "—" : fmt(res.probeError, 4));
  performance.measure("qv-live-update", { start, end: performance.now() });
}

function aria(node, min, max, now, text) {
  node.setAttribute("aria-valuemin", String(min));
  node.setAttribute("aria-valuemax", String(max));
  node.setAttribute("aria-valuenow", String(now));
  node.setAttribute("aria-valuetext", text);
}

function codeLabels(p, lo, hi, most) {
  const first = Math.max(p.qmin, Math.ceil(lo / p.scale + p.zero_point));
  const last = Math.min(p.qmax, Math.floor(hi / p.scale + p.zero_point));
  const wanted = new Set([p.qmin, p.qmax, p.zero_point].filter((c) => c >= first && c <= last));
  const step = Math.max(1, Math.ceil((last - first) / (most - 1)));
  for (let c = first; c <= last && wanted.size < most + 3; c += step) wanted.add(c);
  // drop labels that would sit on top of qmin, z or qmax
  const keep = [...wanted].sort((a, b) => a - b);
  const fixed = new Set([p.qmin, p.qmax, p.zero_point]);
  const minGap = step * 0.6;
  return keep.filter((c) => fixed.has(c) || ![...fixed].some((f) => f !== c && Math.abs(f - c) < minGap));
}

// ---------------------------------------------------------------------------------------------- interaction
function realAt(inst, clientX) {
  const rect = inst.dom.svg.getBoundingClientRect();
  const { W, padX } = inst.geometry;
  const sx = ((clientX - rect.left) * W) / (rect.width || W);
  const { lo, hi } = inst.axis;
  return lo + ((sx - padX) / (W - 2 * padX)) * (hi - lo);
}

function snap(inst, x) {
  // A value as short as the pixel allows: 6 significant digits of the axis span.
  const { lo, hi } = inst.axis;
  const step = 10 ** Math.floor(Math.log10((hi - lo) / 2000));
  return Number((Math.round(x / step) * step).toPrecision(12));
}

function moveHandle(inst, name, x) {
  const v = inst.values;
  const { lo, hi } = inst.axis;
  const xc = Math.min(Math.max(x, lo), hi);
  if (name === "rmin") v.rmin = Math.min(snap(inst, xc), v.rmax);
  else if (name === "rmax") v.rmax = Math.max(snap(inst, xc), v.rmin);
  else if (name === "probe") v.probe = snap(inst, xc);
}

// Dragging z slides the grid under real 0: z changes by the steps moved, and the range becomes the one that
// z implies with the scale held: [(qmin − z)·s, (qmax − z)·s].
function dragZero(inst, dxReal) {
  const base = inst.dragBase;
  const steps = Math.round(dxReal / base.scale);
  const z = Math.min(Math.max(base.zero - steps, base.qmin), base.qmax);
  inst.values.rmin = Number(((base.qmin - z) * base.scale).toPrecision(12));
  inst.values.rmax = Number(((base.qmax - z) * base.scale).toPrecision(12));
}

// Only what the hand changed is sent: a range derived from a typed s and z must not overwrite the stored range.
function release(inst) {
  const v = inst.values;
  const payload = {};
  for (const name of ["rmin", "rmax", "probe", "bits"]) if (v[name] !== inst.sentFrom[name]) payload[name] = v[name];
  if (Object.keys(payload).length === 0) return;
  inst.sentFrom = { ...v };
  inst.releases = (inst.releases || 0) + 1;
  inst.root.dataset.releases = String(inst.releases);
  inst.setTriggerValue("release", payload);
}

function attach(inst) {
  const svg = inst.dom.svg;
  inst.abort = new AbortController();
  const on = (node, type, fn) => node.addEventListener(type, fn, { signal: inst.abort.signal });
  on(svg, "pointerdown", (event) => {
    const target = event.target.closest("[data-handle]");
    if (!target || target.getAttribute("aria-disabled") === "true") return;
    event.preventDefault();
    target.focus({ preventScroll: true });
    svg.setPointerCapture(event.pointerId);
    const name = target.dataset.handle;
    inst.dragging = { name, pointer: event.pointerId, x0: realAt(inst, event.clientX) };
    inst.root.classList.add("qv-dragging");
    if (name === "zero" && inst.result && inst.result.params) {
      const p = inst.result.params;
      inst.dragBase = { scale: p.scale, zero: p.zero_point, qmin: p.qmin, qmax: p.qmax };
    }
  });
  on(svg, "pointermove", (event) => {
    const d = inst.dragging;
    if (!d || d.pointer !== event.pointerId) return;
    const x = realAt(inst, event.clientX);
    if (d.name === "zero") dragZero(inst, x - d.x0);
    else moveHandle(inst, d.name, x);
    draw(inst);
  });
  const end = (event) => {
    const d = inst.dragging;
    if (!d || d.pointer !== event.pointerId) return;
    inst.dragging = null;
    inst.root.classList.remove("qv-dragging");
    release(inst);
  };
  on(svg, "pointerup", end);
  on(svg, "pointercancel", end);
  on(svg, "keydown", (event) => {
    const target = event.target.closest("[data-handle]");
    if (!target || target.getAttribute("aria-disabled") === "true") return;
    const dir = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: 10, PageDown: -10 }[event.key];
    if (!dir) return;
    event.preventDefault();
    const name = target.dataset.handle;
    const mult = event.shiftKey ? 10 : 1;
    if (name === "zero") {
      const p = inst.result.params;
      inst.dragBase = { scale: p.scale, zero: p.zero_point, qmin: p.qmin, qmax: p.qmax };
      dragZero(inst, -dir * mult * p.scale);  // the key moves z itself: right arrow, z + 1
    } else {
      const { lo, hi } = inst.axis;
      const current = name === "probe" ? inst.values.probe : inst.values[name];
      moveHandle(inst, name, current + dir * mult * (hi - lo) / 200);
    }
    draw(inst);
  });
  on(svg, "keyup", (event) => {
    if (event.key.startsWith("Arrow") || event.key.startsWith("Page")) release(inst);
  });
  const step = (dir) => {
    const next = inst.nextBits(dir);
    if (next === null) return;
    inst.values.bits = next;
    draw(inst);
    release(inst);
  };
  on(inst.bitsDown, "click", () => step(-1));
  on(inst.bitsUp, "click", () => step(1));
  inst.resize = new ResizeObserver(() => { if (inst.values) draw(inst); });
  inst.resize.observe(inst.root);
}

function update(inst, data) {
  inst.live = makeLive(data.rules);
  window.quantvizLive = { choose: inst.live.choose, quantize: inst.live.quantize };
  const s = data.settings;
  inst.convention = s.convention;
  inst.rounding = s.rounding;
  inst.zFirst = Boolean(s.z_first);
  inst.options = { signed: s.signed, symmetric: s.symmetric, narrow_range: s.narrow_range, reduce_range: s.reduce_range };
  inst.direct = s.direct || null;  // s and z typed in: nothing to choose, the range ends are fixed
  inst.frozen = Boolean(s.bits_fixed);
  inst.serverOnly = Boolean(s.server_only);
  inst.serverProbe = s.server_probe || null;
  inst.values = { rmin: s.rmin, rmax: s.rmax, probe: s.probe === undefined ? null : s.probe, bits: s.bits };
  inst.sentFrom = { ...inst.values };
  const grids = data.rules.conventions[s.convention].grids;
  inst.nextBits = (dir) => {
    for (let b = inst.values.bits + dir; b >= 2 && b <= 16; b += dir) {
      if (grids[gridKey({ bits: b, ...inst.options })]) return b;
    }
    return null;
  };
  const first = compute(inst);
  const ends = [s.rmin, s.rmax, 0];
  if (!first.error) ends.push(first.realMin, first.realMax);
  if (inst.values.probe !== null) ends.push(inst.values.probe);
  inst.axis = axisFor(ends);
  inst.root.style.setProperty("--qv-chosen", data.colours.chosen);
  inst.root.style.setProperty("--qv-representable", data.colours.representable);
  inst.root.style.setProperty("--qv-clipped", data.colours.clipped);
  inst.root.style.setProperty("--qv-zero", data.colours.zero);
  inst.root.style.setProperty("--qv-probe", data.colours.probe);
  inst.root.classList.toggle("qv-presenter", Boolean(s.presenter));
  draw(inst);
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector(".qv-live");
  if (!root || !data) return undefined;
  let inst = instances.get(root);
  if (!inst) {
    inst = makeInstance(root);
    instances.set(root, inst);
    attach(inst);
  }
  inst.setTriggerValue = setTriggerValue;
  if (!inst.dragging) update(inst, data);
  return () => {
    inst.abort.abort();
    inst.resize.disconnect();
    inst.dom.svg.replaceChildren();
    instances.delete(root);
  };
}
