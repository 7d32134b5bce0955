/**
 * @module The component's shadow styles, adopted as a constructed stylesheet (a CSP with
 * `style-src 'self'` forbids inline <style>, not CSSOM). Themed by `--upload-*` custom properties
 * and `::part()`; logical properties so right-to-left languages mirror; colours chosen for
 * WCAG AA contrast; motion off under `prefers-reduced-motion`.
 */
export const DROPZONE_CSS = /* css */ `
:host {
  --_accent: var(--upload-accent, #1d5bd8);
  --_accent-soft: var(--upload-accent-soft, #c9dafc);
  --_surface: var(--upload-surface, #fff);
  --_zone-bg: var(--upload-zone-background, #fff);
  --_zone-active: var(--upload-zone-active-background, #f0f5ff);
  --_text: var(--upload-text, #1c2430);
  --_muted: var(--upload-muted, #5a6678);
  --_border: var(--upload-border, #8a96a8);
  --_line: var(--upload-line, #e2e6ec);
  --_ok: var(--upload-ok, #16723e);
  --_warn: var(--upload-warn, #8a5a00);
  --_bad: var(--upload-bad, #b42318);
  --_radius: var(--upload-radius, 12px);
  --_track: var(--upload-track, #e4e8ef);
  display: block;
  color: var(--_text);
  font: var(--upload-font, inherit);
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
.sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.drop-zone {
  border: 2px dashed var(--_border); border-radius: calc(var(--_radius) + 2px); background: var(--_zone-bg);
  padding: 2rem 1rem; text-align: center; cursor: pointer; transition: border-color .15s, background-color .15s;
}
.drop-zone svg { color: var(--_accent); }
.drop-zone:hover, .drop-zone:focus-within, .drop-zone.over { border-color: var(--_accent); background: var(--_zone-active); }
.drop-zone p { margin: .4rem 0; }
.hint { color: var(--_muted); margin: 0; }
button { font: inherit; }
.choose {
  border: 0; background: none; color: var(--_accent); text-decoration: underline; cursor: pointer; padding: .25rem;
  min-height: 2.75rem; min-width: 2.75rem; font-weight: 600;
}
.choose:focus-visible, .btn:focus-visible, a:focus-visible, .card:focus-visible { outline: 3px solid var(--_accent); outline-offset: 2px; border-radius: 4px; }
ul { list-style: none; margin: 1rem 0 0; padding: 0; display: grid; gap: .75rem; }
.section-title { font-size: 1rem; margin: 1.5rem 0 .5rem; color: var(--_muted); }
.card {
  display: grid; grid-template-columns: 4rem minmax(0, 1fr) auto; gap: .75rem; align-items: center;
  background: var(--_surface); border: 1px solid var(--_line); border-radius: var(--_radius); padding: .75rem;
}
.preview { width: 4rem; height: 4rem; border-radius: 8px; overflow: hidden; background: #eef1f6; display: grid; place-items: center; }
.preview img { width: 100%; height: 100%; object-fit: cover; }
.type-icon { font-size: .75rem; font-weight: 700; color: var(--_muted); letter-spacing: .05em; }
.body { min-width: 0; }
.title { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
.name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; max-width: 100%; }
.size, .stats { color: var(--_muted); font-size: .875rem; }
.badge { font-size: .75rem; padding: 2px 8px; border-radius: 99px; background: #eef1f6; color: var(--_muted); white-space: nowrap; }
.card[data-state=uploading] .badge, .card[data-state=processing] .badge { background: #e8f0ff; color: var(--_accent); }
.card[data-state=ready] .badge { background: #e3f5ea; color: var(--_ok); }
.card[data-state=paused] .badge { background: #fdf3e1; color: var(--_warn); }
.card[data-state=failed] .badge, .card[data-state=rejected] .badge { background: #fde8e8; color: var(--_bad); }
.bar { position: relative; height: .5rem; margin: .5rem 0 .25rem; background: var(--_track); border-radius: 99px; overflow: hidden; }
.bar-confirmed, .bar-inflight { position: absolute; inset-block: 0; inset-inline-start: 0; width: 0; border-radius: 99px; transition: width .25s ease-out; }
.bar-confirmed { background: var(--_accent); }
.bar-inflight { background: var(--_accent-soft); }
.card[data-state=ready] .bar-confirmed { background: var(--_ok); }
.card[data-state=failed] .bar-confirmed, .card[data-state=rejected] .bar-confirmed { background: var(--_bad); }
.message { color: var(--_bad); font-size: .875rem; overflow-wrap: anywhere; }
.card[data-state=paused] .message { color: var(--_warn); }
.links { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; margin-top: .25rem; }
.links a { color: var(--_accent); font-size: .9rem; }
.derivative { height: 2.5rem; border-radius: 4px; border: 1px solid var(--_line); display: block; }
.actions { display: flex; flex-direction: column; gap: .375rem; }
.btn {
  font-size: .875rem; padding: .5rem .75rem; min-height: 2.75rem; border-radius: 8px; border: 1px solid var(--_border);
  background: var(--_surface); color: var(--_text); cursor: pointer;
}
.btn:hover { border-color: var(--_accent); }
.btn.primary { background: var(--_accent); border-color: var(--_accent); color: #fff; }
.btn.danger { color: var(--_bad); }
.pending-item { display: flex; gap: .75rem; align-items: center; background: var(--_surface); border: 1px solid var(--_line); border-radius: 10px; padding: .625rem .75rem; flex-wrap: wrap; }
.pending-item .name { flex: 1; }
@media (max-width: 30rem) {
  .card { grid-template-columns: 3rem minmax(0, 1fr); }
  .preview { width: 3rem; height: 3rem; }
  .actions { grid-column: 1 / -1; flex-direction: row; justify-content: flex-end; flex-wrap: wrap; }
}
@media (prefers-reduced-motion: reduce) {
  .drop-zone, .bar-confirmed, .bar-inflight { transition: none; }
}
`;

let sheet: CSSStyleSheet | undefined;

/** One shared stylesheet for every instance. */
export function dropzoneSheet(): CSSStyleSheet {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(DROPZONE_CSS);
  }
  return sheet;
}
