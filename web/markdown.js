// markdown.js: a small markdown renderer that builds DOM nodes; every character of the source ends up as text, never as HTML.
//
// Blocks: ATX headings, paragraphs, "-"/"*"/"+" and "1." lists, checklist
// items "- [ ]"/"- [x]" (rendered as checkboxes, numbered exactly as the
// hub numbers them for context.edit check/uncheck: every matching line, in
// order), fenced code (``` or ~~~), block quotes, rules. Inline: `code`,
// **strong**, *em*/_em_, [[wiki|label]] links, [text](http(s) URL) links,
// bare http(s) URLs.
import { h } from './ui.js';

const CHECK_RE = /^(\s*[-*+] \[)([ xX])(\]( |$))/;

// render returns a fragment. opts.onCheck(n, checked) is called when box n
// (from 1) is ticked; opts.wikiHref(target) makes a link's href.
export function render(src, opts = {}) {
  const frag = document.createDocumentFragment();
  const lines = String(src || '').replace(/\r\n?/g, '\n').split('\n');
  let box = 0;
  let i = 0;
  let para = [];
  let list = null;
  const flushPara = () => {
    if (para.length) frag.append(h('p', null, inline(para.join(' '), opts)));
    para = [];
  };
  const endList = () => { list = null; };
  while (i < lines.length) {
    const line = lines[i];
    const fence = line.match(/^\s*(```|~~~)/);
    if (fence) {
      flushPara(); endList();
      const code = [];
      i++;
      while (i < lines.length && !lines[i].trimStart().startsWith(fence[1])) {
        if (CHECK_RE.test(lines[i])) box++; // the hub counts these too
        code.push(lines[i++]);
      }
      i++;
      frag.append(h('pre', null, h('code', null, code.join('\n'))));
      continue;
    }
    const heading = line.match(/^(#{1,6})\s+(.*)$/);
    const check = line.match(CHECK_RE);
    const bullet = line.match(/^\s*([-*+]|\d+[.)])\s+(.*)$/);
    if (!line.trim()) { flushPara(); endList(); }
    else if (heading) { flushPara(); endList(); frag.append(h(`h${Math.min(6, heading[1].length + 1)}`, null, inline(heading[2], opts))); }
    else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) { flushPara(); endList(); frag.append(h('hr')); }
    else if (line.startsWith('>')) { flushPara(); endList(); frag.append(h('blockquote', null, inline(line.replace(/^>\s?/, ''), opts))); }
    else if (check || bullet) {
      flushPara();
      const ordered = !check && /\d/.test(bullet[1]);
      const tag = ordered ? 'ol' : 'ul';
      if (!list || list.tagName.toLowerCase() !== tag) { list = h(tag, check ? { class: 'checklist' } : null); frag.append(list); }
      list.append(check ? checkItem(line, check, ++box, opts) : h('li', null, inline(bullet[2], opts)));
    } else para.push(line.trim());
    i++;
  }
  flushPara();
  return frag;
}

function checkItem(line, m, n, opts) {
  const checked = m[2] !== ' ';
  const text = line.slice(m[0].length);
  const input = h('input', { type: 'checkbox', checked, 'data-box': n, 'aria-label': `${checked ? 'Uncheck' : 'Check'}: ${text || `item ${n}`}` });
  input.addEventListener('change', () => opts.onCheck ? opts.onCheck(n, input.checked) : (input.checked = checked));
  if (!opts.onCheck) input.disabled = true;
  return h('li', { class: checked ? 'done' : null }, h('label', null, input, ' ', inline(text, opts)));
}

// inline turns one line of text into nodes.
const INLINE_RE = /(`+)([^`]+?)\1|\[\[([^\]|]+)(?:\|([^\]]+))?\]\]|\*\*(.+?)\*\*|(?<![\w*])[*_](?![\s*_])(.+?)(?<!\s)[*_](?!\w)|\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])/;

export function inline(text, opts = {}) {
  const out = [];
  let rest = String(text);
  while (rest) {
    const m = rest.match(INLINE_RE);
    if (!m) { out.push(rest); break; }
    if (m.index) out.push(rest.slice(0, m.index));
    out.push(inlineNode(m, opts));
    rest = rest.slice(m.index + m[0].length);
  }
  return out;
}

function inlineNode(m, opts) {
  if (m[1]) return h('code', null, m[2]);
  if (m[3]) {
    const target = m[3].trim();
    return h('a', { href: opts.wikiHref ? opts.wikiHref(target) : '#', class: 'wiki' }, (m[4] || m[3]).trim());
  }
  if (m[5]) return h('strong', null, inline(m[5], opts));
  if (m[6]) return h('em', null, inline(m[6], opts));
  if (m[7]) return h('a', { href: m[8], rel: 'noopener noreferrer', target: '_blank' }, inline(m[7], opts));
  return h('a', { href: m[9], rel: 'noopener noreferrer', target: '_blank' }, m[9]);
}

// snippet renders a search snippet: **term** marks the matched words.
export function snippet(text) {
  return String(text || '').split(/\*\*/).map((part, i) => (i % 2 ? h('mark', null, part) : part));
}
