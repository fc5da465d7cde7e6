// Copying to the clipboard. Without the Clipboard API (a page served over plain http to another host) or
// when the browser refuses, the text is selected instead, for the reader to copy by hand.

/** Selects the text of `element` (an input's value, or any element's contents). */
export function selectText(element: HTMLElement | null): void {
  if (element === null) {
    return;
  }
  if (element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement) {
    element.select();
    return;
  }
  const selection = window.getSelection();
  if (selection !== null) {
    const range = document.createRange();
    range.selectNodeContents(element);
    selection.removeAllRanges();
    selection.addRange(range);
  }
}

/** Copies `text`: true when copied; false when it could not be, and `element`'s text is selected instead. */
export async function copyOrSelect(text: string, element: HTMLElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    selectText(element);
    return false;
  }
}
