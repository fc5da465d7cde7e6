// A plain monospace textarea with a line-number gutter that marks the lines the gateway complained about,
// and a list of those complaints; choosing one puts the caret on its line. Styled by views/Workflows.css.
import { useId, useRef, useState } from "react";
import { errorsByLine, lineCount, lineOffset, positionOf, scrollTopFor, type ValidationError } from "./lines";

export function CodeEditor({
  label,
  value,
  onChange,
  errors,
  hint,
  fieldError,
  required = false,
  rows = 18,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  /** The gateway's problems with the text, listed under it and marked in the gutter. */
  errors: readonly ValidationError[];
  hint?: string;
  /** A problem with the field as a whole (empty, too large). */
  fieldError?: string | undefined;
  required?: boolean;
  rows?: number;
}) {
  const id = useId();
  const area = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const [caret, setCaret] = useState({ line: 1, column: 1 });
  const lines = lineCount(value);
  const marked = errorsByLine(errors, lines);
  const invalid = errors.length > 0 || fieldError !== undefined;
  const described = [
    hint !== undefined ? `${id}-hint` : "",
    fieldError !== undefined ? `${id}-error` : "",
    errors.length > 0 ? `${id}-problems` : "",
  ]
    .filter((part) => part !== "")
    .join(" ");

  const syncScroll = () => {
    if (gutter.current !== null && area.current !== null) {
      gutter.current.scrollTop = area.current.scrollTop;
    }
  };
  const trackCaret = () => {
    if (area.current !== null) {
      setCaret(positionOf(area.current.value, area.current.selectionStart));
    }
  };
  const goTo = (line: number, column: number | undefined) => {
    const element = area.current;
    if (element === null) {
      return;
    }
    const offset = lineOffset(element.value, line, column ?? 1);
    element.focus();
    element.setSelectionRange(offset, offset);
    const lineHeight = Number.parseFloat(window.getComputedStyle(element).lineHeight) || 20;
    element.scrollTop = scrollTopFor(line, lineHeight, element.clientHeight);
    syncScroll();
    trackCaret();
  };

  return (
    <div className="field">
      <label htmlFor={id}>
        {label}
        {required && (
          <span className="required" aria-hidden="true">
            {" "}
            *
          </span>
        )}
      </label>
      <div className={invalid ? "code-editor invalid" : "code-editor"}>
        <div className="code-gutter" ref={gutter} aria-hidden="true">
          {Array.from({ length: lines }, (_, index) => {
            const line = index + 1;
            const messages = marked.get(line);
            return messages === undefined ? (
              <div key={line} className="code-line" data-line={line}>
                {line}
              </div>
            ) : (
              <div key={line} className="code-line invalid" data-line={line} aria-invalid="true" title={messages.join("\n")}>
                <span className="code-marker">●</span>
                {line}
              </div>
            );
          })}
        </div>
        <textarea
          id={id}
          ref={area}
          className="code"
          rows={rows}
          wrap="off"
          spellCheck={false}
          autoCapitalize="off"
          autoComplete="off"
          autoCorrect="off"
          required={required}
          value={value}
          aria-invalid={invalid ? true : undefined}
          aria-describedby={described === "" ? undefined : described}
          onChange={(event) => {
            onChange(event.target.value);
            trackCaret();
          }}
          onScroll={syncScroll}
          onSelect={trackCaret}
        />
      </div>
      <p className="hint field-note code-status">
        {hint !== undefined && <span id={`${id}-hint`}>{hint} </span>}
        <span>
          Line {caret.line}, column {caret.column}
        </span>
      </p>
      {fieldError !== undefined && (
        <p id={`${id}-error`} className="error field-note">
          {fieldError}
        </p>
      )}
      {errors.length > 0 && (
        <ul id={`${id}-problems`} className="code-problems" aria-label="Validation errors">
          {errors.map((error, index) => (
            <li key={index} className="error">
              {error.line !== undefined ? (
                <button type="button" className="link" onClick={() => goTo(error.line ?? 1, error.column)}>
                  line {error.line}
                  {error.column !== undefined && `, column ${error.column}`}
                </button>
              ) : (
                <span>whole definition</span>
              )}
              : {error.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
