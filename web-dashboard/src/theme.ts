// Light, dark, or whatever the system prefers; the choice is kept in localStorage (it is not a secret).
export type Theme = "system" | "light" | "dark";

const KEY = "construct_theme";

export function storedTheme(): Theme {
  const value = window.localStorage.getItem(KEY);
  return value === "light" || value === "dark" ? value : "system";
}

/** Applies `theme` to the document (`data-theme`, read by styles.css) and remembers it. */
export function applyTheme(theme: Theme): void {
  if (theme === "system") {
    delete document.documentElement.dataset.theme;
    window.localStorage.removeItem(KEY);
  } else {
    document.documentElement.dataset.theme = theme;
    window.localStorage.setItem(KEY, theme);
  }
}

export function nextTheme(theme: Theme): Theme {
  return theme === "system" ? "light" : theme === "light" ? "dark" : "system";
}
