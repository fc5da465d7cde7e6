// xterm 6's DOM renderer (its only built-in renderer) styles the terminal in two ways that the gateway's
// CSP (`style-src 'self'`, no 'unsafe-inline') blocks:
//  - it appends <style> elements inside the terminal and writes CSS into them (theme colours, font, cursor,
//    selection, cell size, scrollbar): blocked, the terminal renders in the page font without colours;
//  - it gives truecolor cells `setAttribute("style", ...)`: blocked, 24-bit colours are lost.
// The CSSOM is not subject to the CSP. While installed, this module routes both through it: a <style>
// appended inside `host` is kept out of the document (so the browser never checks it against the CSP, not
// even while it is empty) and the text written to it goes into a constructed stylesheet adopted by the
// document, dropped again by the element's `remove()`; a `style` attribute set from script is applied as
// `style.cssText` (the same declarations).

interface Installation {
  host: Element;
  sheets: Set<CSSStyleSheet>;
}

const installations = new Set<Installation>();
const diverted = new WeakSet<HTMLStyleElement>();
let originals: { setAttribute: Element["setAttribute"]; appendChild: Node["appendChild"] } | null = null;

function ownerOf(parent: Node): Installation | undefined {
  for (const installation of installations) {
    if (installation.host === parent || installation.host.contains(parent)) {
      return installation;
    }
  }
  return undefined;
}

/** Sends what is written to `element.textContent` to a constructed stylesheet the document adopts. */
function divert(element: HTMLStyleElement, installation: Installation): void {
  diverted.add(element);
  const doc = installation.host.ownerDocument;
  const sheet = new CSSStyleSheet();
  let text = element.textContent ?? "";
  sheet.replaceSync(text);
  installation.sheets.add(sheet);
  doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
  Object.defineProperties(element, {
    textContent: {
      configurable: true,
      get: () => text,
      set: (value: string | null) => {
        text = value ?? "";
        sheet.replaceSync(text);
      },
    },
    remove: {
      configurable: true,
      value: () => {
        installation.sheets.delete(sheet);
        doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((adopted) => adopted !== sheet);
      },
    },
  });
}

function patch(): void {
  const setAttribute = Element.prototype.setAttribute;
  const appendChild = Node.prototype.appendChild;
  originals = { setAttribute, appendChild };
  let applying = false;
  Element.prototype.setAttribute = function (this: Element, name: string, value: string): void {
    // `applying`: a DOM implementation may itself set the attribute from `cssText`.
    if (!applying && name.toLowerCase() === "style" && (this instanceof HTMLElement || this instanceof SVGElement)) {
      applying = true;
      try {
        this.style.cssText = String(value);
      } finally {
        applying = false;
      }
      return;
    }
    setAttribute.call(this, name, value);
  };
  Node.prototype.appendChild = function <T extends Node>(this: Node, child: T): T {
    const installation = child instanceof HTMLStyleElement ? ownerOf(this) : undefined;
    if (installation !== undefined) {
      if (!diverted.has(child as Node as HTMLStyleElement)) {
        divert(child as Node as HTMLStyleElement, installation);
      }
      return child;
    }
    return appendChild.call(this, child) as T;
  };
}

function unpatch(): void {
  if (originals !== null) {
    Element.prototype.setAttribute = originals.setAttribute;
    Node.prototype.appendChild = originals.appendChild;
    originals = null;
  }
}

/**
 * Routes the inline styles of what renders inside `host` through the CSSOM until the returned function is
 * called, which also drops the stylesheets made for it. Install before `terminal.open(host)`; remove after
 * `terminal.dispose()`.
 */
export function installCssomStyles(host: Element): () => void {
  const installation: Installation = { host, sheets: new Set() };
  if (installations.size === 0) {
    patch();
  }
  installations.add(installation);
  return () => {
    if (!installations.delete(installation)) {
      return;
    }
    const doc = host.ownerDocument;
    doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((sheet) => !installation.sheets.has(sheet));
    if (installations.size === 0) {
      unpatch();
    }
  };
}
