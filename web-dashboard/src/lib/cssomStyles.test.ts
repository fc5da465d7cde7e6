import { afterEach, describe, expect, it } from "vitest";
import { installCssomStyles } from "./cssomStyles";

afterEach(() => {
  document.body.innerHTML = "";
  document.adoptedStyleSheets = [];
});

function host(): HTMLDivElement {
  const element = document.createElement("div");
  document.body.append(element);
  return element;
}

describe("installCssomStyles", () => {
  it("keeps <style> elements appended inside the host out of the document and adopts their CSS", () => {
    const target = host();
    const remove = installCssomStyles(target);
    const screen = document.createElement("div");
    target.appendChild(screen);
    const style = document.createElement("style");
    expect(screen.appendChild(style)).toBe(style);
    style.textContent = ".xterm-rows { color: red; }";
    expect(document.querySelectorAll("style")).toHaveLength(0);
    expect(document.adoptedStyleSheets).toHaveLength(1);
    const sheet = document.adoptedStyleSheets[0]!;
    expect(sheet.cssRules[0]?.cssText).toContain("color: red");
    style.textContent = ".xterm-rows { color: blue; }";
    expect(style.textContent).toBe(".xterm-rows { color: blue; }");
    expect(document.adoptedStyleSheets[0]?.cssRules[0]?.cssText).toContain("color: blue");
    remove();
    expect(document.adoptedStyleSheets).toHaveLength(0);
  });

  it("drops a stylesheet when its element is removed", () => {
    const target = host();
    const remove = installCssomStyles(target);
    const style = document.createElement("style");
    target.appendChild(style);
    style.textContent = "a { color: red; }";
    expect(document.adoptedStyleSheets).toHaveLength(1);
    style.remove();
    expect(document.adoptedStyleSheets).toHaveLength(0);
    remove();
  });

  it("leaves <style> elements elsewhere alone", () => {
    const target = host();
    const remove = installCssomStyles(target);
    const style = document.createElement("style");
    document.head.appendChild(style);
    style.textContent = "b { color: red; }";
    expect(style.parentNode).toBe(document.head);
    expect(document.adoptedStyleSheets).toHaveLength(0);
    style.remove();
    remove();
  });

  it("applies script-set style attributes through the CSSOM while installed, and restores the DOM after", () => {
    const nativeSetAttribute = Element.prototype.setAttribute;
    const nativeAppendChild = Node.prototype.appendChild;
    const remove = installCssomStyles(host());
    const span = document.createElement("span");
    span.setAttribute("style", "color:#00c8ff;");
    expect(span.style.color).not.toBe("");
    span.setAttribute("style", `${span.getAttribute("style") ?? ""}background-color:#c80064;`);
    expect(span.style.backgroundColor).not.toBe("");
    expect(span.style.color).not.toBe("");
    span.setAttribute("class", "x");
    expect(span.className).toBe("x");
    remove();
    expect(Element.prototype.setAttribute).toBe(nativeSetAttribute);
    expect(Node.prototype.appendChild).toBe(nativeAppendChild);
  });

  it("stays installed until the last installation is removed", () => {
    const nativeSetAttribute = Element.prototype.setAttribute;
    const first = installCssomStyles(host());
    const second = installCssomStyles(host());
    first();
    first();
    expect(Element.prototype.setAttribute).not.toBe(nativeSetAttribute);
    second();
    expect(Element.prototype.setAttribute).toBe(nativeSetAttribute);
  });
});
