// Small DOM helpers shared by the views.

/** An element holding `content` as text. */
export function text(tag: string, content: string, cls?: string): HTMLElement {
  const e = document.createElement(tag);
  e.textContent = content;
  if (cls) e.className = cls;
  return e;
}
