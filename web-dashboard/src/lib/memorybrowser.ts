// The memory browser's pure logic: Kumiho's wire model, krefs, the browser's address (`/assets?...`),
// its breadcrumb, and reading an artifact's body for preview.
import { ApiError, basePath, query } from "../api";

export interface KumihoProject {
  name: string;
  description?: string | null;
  deprecated?: boolean;
  created_at?: string | null;
}

export interface KumihoSpace {
  path: string;
  name: string;
  parent_path?: string | null;
  created_at?: string | null;
}

export interface KumihoItem {
  kref: string;
  name: string;
  item_name: string;
  kind: string;
  deprecated?: boolean;
  created_at?: string | null;
  metadata?: Record<string, string>;
}

export interface KumihoRevision {
  kref: string;
  item_kref: string;
  number: number;
  latest?: boolean;
  tags?: string[];
  metadata?: Record<string, string>;
  deprecated?: boolean;
  created_at?: string | null;
}

export interface KumihoArtifact {
  kref: string;
  name: string;
  location: string;
  revision_kref: string;
  item_kref?: string | null;
  deprecated?: boolean;
  created_at?: string | null;
  metadata?: Record<string, string>;
}

export interface KumihoEdge {
  source_kref: string;
  target_kref: string;
  edge_type: string;
  created_at?: string | null;
  metadata?: Record<string, string> | null;
}

export interface KumihoSearchHit {
  item: KumihoItem;
  score?: number;
}

export interface KumihoBundleMembers {
  members: { item_kref: string; added_at?: string | null; added_by?: string | null }[];
  total_count?: number | null;
}

/** The path of a read through the gateway's read-only Kumiho proxy. */
export function kumihoPath(path: string, params: Record<string, string | number | boolean | undefined> = {}): string {
  return `/api/kumiho/${path}${query(params)}`;
}

// --- Krefs: kref://<project>(/<space>)+/<item_name>.<kind>[?r=N][&t=tag][&a=artifact] ---------------------

export const KREF_SCHEME = "kref://";

export interface ParsedKref {
  project: string;
  spaces: string[];
  itemName: string;
  kind: string;
  revision: number | null;
  tag: string | null;
  artifact: string | null;
}

function validSegment(segment: string): boolean {
  return segment.length > 0 && segment !== "." && segment !== ".." && !/[\s/?&#=]/u.test(segment);
}

/** Parses a kref (the scheme is optional); null for anything that is not one. */
export function parseKref(raw: string): ParsedKref | null {
  const trimmed = raw.trim();
  const rest = trimmed.startsWith(KREF_SCHEME) ? trimmed.slice(KREF_SCHEME.length) : trimmed;
  const mark = rest.indexOf("?");
  const path = mark < 0 ? rest : rest.slice(0, mark);
  const parts = path.split("/");
  if (parts.length < 3 || !parts.every(validSegment)) {
    return null;
  }
  const last = parts[parts.length - 1] ?? "";
  const dot = last.lastIndexOf(".");
  if (dot <= 0 || dot === last.length - 1) {
    return null;
  }
  const parsed: ParsedKref = {
    project: parts[0] ?? "",
    spaces: parts.slice(1, -1),
    itemName: last.slice(0, dot),
    kind: last.slice(dot + 1),
    revision: null,
    tag: null,
    artifact: null,
  };
  if (mark >= 0) {
    for (const pair of rest.slice(mark + 1).split("&")) {
      const equals = pair.indexOf("=");
      const key = pair.slice(0, equals);
      const value = pair.slice(equals + 1);
      if (equals <= 0 || value.length === 0) {
        return null;
      }
      if (key === "r" && parsed.revision === null && /^[1-9][0-9]{0,8}$/.test(value)) {
        parsed.revision = Number(value);
      } else if (key === "t" && parsed.tag === null && validSegment(value)) {
        parsed.tag = value;
      } else if (key === "a" && parsed.artifact === null && validSegment(value)) {
        parsed.artifact = value;
      } else {
        return null;
      }
    }
  }
  return parsed;
}

/** The kref of the item a parsed kref points into. */
export function itemKrefOf(kref: ParsedKref): string {
  return `${KREF_SCHEME}${[kref.project, ...kref.spaces, `${kref.itemName}.${kref.kind}`].join("/")}`;
}

/** The path of the space holding the item (`/<project>/<space>…`). */
export function spacePathOf(kref: ParsedKref): string {
  return `/${[kref.project, ...kref.spaces].join("/")}`;
}

// --- The browser's address ----------------------------------------------------------------------------

/**
 * Where the memory browser is: `/assets?project=&space=&item=&revision=&artifact=&q=`. Deeper fields imply
 * the shallower ones (an item kref names its project and space), so a link may carry only the deepest.
 */
export interface BrowserLocation {
  project: string | null;
  /** A space path, `/<project>/<space>[/<sub>…]`. */
  space: string | null;
  /** An item kref. */
  item: string | null;
  /** A revision kref (`…?r=N` or `…?t=tag`). */
  revision: string | null;
  /** An artifact name within the revision. */
  artifact: string | null;
  /** A full-text search (within `project` when set). */
  q: string | null;
}

export const ROOT: BrowserLocation = {
  project: null,
  space: null,
  item: null,
  revision: null,
  artifact: null,
  q: null,
};

function spaceSegments(path: string): string[] | null {
  const parts = path.split("/");
  if (parts[0] !== "" || parts.length < 2) {
    return null;
  }
  const segments = parts.slice(1);
  return segments.every(validSegment) ? segments : null;
}

/** Reads (and makes consistent) the browser's address; anything malformed is dropped. */
export function readLocation(params: URLSearchParams): BrowserLocation {
  const text = (key: string): string | null => {
    const value = params.get(key)?.trim() ?? "";
    return value.length > 0 ? value : null;
  };
  const location: BrowserLocation = { ...ROOT, q: text("q") };

  const revision = text("revision");
  const parsedRevision = revision === null ? null : parseKref(revision);
  if (parsedRevision !== null && (parsedRevision.revision !== null || parsedRevision.tag !== null)) {
    location.revision = `${itemKrefOf(parsedRevision)}?${
      parsedRevision.revision !== null ? `r=${parsedRevision.revision}` : `t=${parsedRevision.tag ?? ""}`
    }`;
    location.item = itemKrefOf(parsedRevision);
    location.space = spacePathOf(parsedRevision);
    location.project = parsedRevision.project;
    const artifact = text("artifact") ?? parsedRevision.artifact;
    location.artifact = artifact !== null && validSegment(artifact) ? artifact : null;
    return location;
  }
  const item = text("item");
  const parsedItem = item === null ? null : parseKref(item);
  if (parsedItem !== null) {
    location.item = itemKrefOf(parsedItem);
    location.space = spacePathOf(parsedItem);
    location.project = parsedItem.project;
    return location;
  }
  const space = text("space");
  const segments = space === null ? null : spaceSegments(space);
  if (segments !== null && segments.length >= 2) {
    location.space = `/${segments.join("/")}`;
    location.project = segments[0] ?? null;
    return location;
  }
  const project = text("project");
  location.project = project !== null && validSegment(project) ? project : null;
  return location;
}

/** The query string of a location ("" at the root), fields in a fixed order. */
export function locationSearch(location: BrowserLocation): string {
  return query({
    project: location.project,
    space: location.space,
    item: location.item,
    revision: location.revision,
    artifact: location.artifact,
    q: location.q,
  });
}

export interface Crumb {
  label: string;
  location: BrowserLocation;
}

/** The breadcrumb from the list of projects down to `location` (its last crumb is `location` itself). */
export function breadcrumb(location: BrowserLocation): Crumb[] {
  const crumbs: Crumb[] = [{ label: "Projects", location: ROOT }];
  if (location.project === null) {
    if (location.q !== null) {
      crumbs.push({ label: `Search “${location.q}”`, location: { ...ROOT, q: location.q } });
    }
    return crumbs;
  }
  const project = { ...ROOT, project: location.project };
  crumbs.push({ label: location.project, location: project });
  if (location.q !== null) {
    crumbs.push({ label: `Search “${location.q}”`, location: { ...project, q: location.q } });
    return crumbs;
  }
  const segments = location.space === null ? [] : (spaceSegments(location.space) ?? []).slice(1);
  segments.forEach((segment, index) => {
    crumbs.push({
      label: segment,
      location: { ...project, space: `/${[location.project, ...segments.slice(0, index + 1)].join("/")}` },
    });
  });
  if (location.item === null) {
    return crumbs;
  }
  const item = parseKref(location.item);
  const atItem: BrowserLocation = { ...project, space: location.space, item: location.item };
  crumbs.push({ label: item === null ? location.item : `${item.itemName}.${item.kind}`, location: atItem });
  if (location.revision === null) {
    return crumbs;
  }
  const revision = parseKref(location.revision);
  const atRevision: BrowserLocation = { ...atItem, revision: location.revision };
  const label =
    revision === null
      ? location.revision
      : revision.revision !== null
        ? `r${revision.revision}`
        : `tag ${revision.tag ?? ""}`;
  crumbs.push({ label, location: atRevision });
  if (location.artifact !== null) {
    crumbs.push({ label: location.artifact, location: { ...atRevision, artifact: location.artifact } });
  }
  return crumbs;
}

/** The location of a revision (or item) kref met in an edge or a bundle; null when it is not a kref. */
export function locationOfKref(kref: string): BrowserLocation | null {
  const parsed = parseKref(kref);
  if (parsed === null) {
    return null;
  }
  const base: BrowserLocation = {
    ...ROOT,
    project: parsed.project,
    space: spacePathOf(parsed),
    item: itemKrefOf(parsed),
  };
  if (parsed.revision !== null) {
    return { ...base, revision: `${itemKrefOf(parsed)}?r=${parsed.revision}` };
  }
  if (parsed.tag !== null) {
    return { ...base, revision: `${itemKrefOf(parsed)}?t=${parsed.tag}` };
  }
  return base;
}

/**
 * Server paging over Kumiho's `limit`/`offset` (which gives no total): ask for one more than a page; the
 * extra one only says that a next page exists.
 */
export function splitPage<T>(fetched: readonly T[], perPage: number): { shown: T[]; hasMore: boolean } {
  return { shown: fetched.slice(0, perPage), hasMore: fetched.length > perPage };
}

// --- Artifact bodies ------------------------------------------------------------------------------------

/** How much of a text artifact is shown. */
export const PREVIEW_LIMIT = 256 * 1024;

/** The artifact-body URL (path under the gateway) for a location; the session cookie authenticates it. */
export function artifactBodyPath(location: string): string {
  return `/api/artifact-body${query({ location })}`;
}

const TEXT_TYPES = new RegExp(
  [
    String.raw`^text/`,
    String.raw`^application/(json|xml|yaml|x-yaml|toml|javascript|x-sh|x-ndjson|sql|graphql)\b`,
    String.raw`^application/[\w.+-]+\+(json|xml|yaml)\b`,
    String.raw`^image/svg\+xml\b`,
  ].join("|"),
  "i",
);
const OPAQUE_TYPES = /^(application\/octet-stream\b|binary\/|$)/i;

/** Whether a body of this content type is text: yes, no, or "look at the bytes". */
export function textualType(contentType: string | null): "text" | "binary" | "sniff" {
  const type = (contentType ?? "").trim();
  if (TEXT_TYPES.test(type)) {
    return "text";
  }
  return OPAQUE_TYPES.test(type) ? "sniff" : "binary";
}

/** Drops an incomplete UTF-8 sequence at the end (a body cut at the preview limit). */
export function trimPartialUtf8(bytes: Uint8Array): Uint8Array {
  let start = bytes.length - 1;
  let continuation = 0;
  while (start >= 0 && continuation < 3 && ((bytes[start] ?? 0) & 0xc0) === 0x80) {
    start--;
    continuation++;
  }
  if (start < 0) {
    return bytes;
  }
  const lead = bytes[start] ?? 0;
  const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return length > continuation + 1 ? bytes.subarray(0, start) : bytes;
}

/** Whether bytes look binary: a NUL, or not UTF-8. */
export function looksBinary(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) {
    return true;
  }
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(trimPartialUtf8(bytes));
    return false;
  } catch {
    return true;
  }
}

// The whole size from `Content-Range: bytes a-b/total` (or an unsatisfied range's `bytes */total`);
// null when unknown.
export function rangeTotal(contentRange: string | null): number | null {
  const match = /\/(\d+)\s*$/.exec(contentRange ?? "");
  return match === null ? null : Number(match[1]);
}

export type ArtifactPreview =
  | { kind: "text"; text: string; shownBytes: number; totalBytes: number | null; truncated: boolean }
  | { kind: "binary"; contentType: string; totalBytes: number | null };

/** Reads the start of an artifact (at most PREVIEW_LIMIT bytes, by a Range request) for preview. */
export async function loadArtifactPreview(location: string, signal?: AbortSignal): Promise<ArtifactPreview> {
  let response: Response;
  try {
    response = await fetch(`${basePath()}${artifactBodyPath(location)}`, {
      credentials: "same-origin",
      headers: { Range: `bytes=0-${PREVIEW_LIMIT - 1}` },
      ...(signal === undefined ? {} : { signal }),
    });
  } catch (caught) {
    if (caught instanceof DOMException && caught.name === "AbortError") {
      throw caught;
    }
    throw new ApiError(0, "NETWORK_ERROR", "The gateway could not be reached");
  }
  if (response.status === 416) {
    // An empty file cannot satisfy a range.
    return { kind: "text", text: "", shownBytes: 0, totalBytes: 0, truncated: false };
  }
  if (!response.ok) {
    const body = await response.text();
    let envelope: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(body);
      if (parsed !== null && typeof parsed === "object") {
        envelope = parsed as Record<string, unknown>;
      }
    } catch {
      envelope = {};
    }
    throw new ApiError(
      response.status,
      typeof envelope.code === "string" ? envelope.code : `HTTP_${response.status}`,
      typeof envelope.error === "string" ? envelope.error : response.statusText || `HTTP ${response.status}`,
      envelope,
    );
  }
  const all = new Uint8Array(await response.arrayBuffer());
  const bytes = all.length > PREVIEW_LIMIT ? all.subarray(0, PREVIEW_LIMIT) : all;
  const contentLength = response.headers.get("Content-Length");
  const totalBytes =
    response.status === 206
      ? rangeTotal(response.headers.get("Content-Range"))
      : contentLength !== null && /^\d+$/.test(contentLength)
        ? Number(contentLength)
        : all.length;
  const contentType = response.headers.get("Content-Type") ?? "";
  const verdict = textualType(contentType);
  if (verdict === "binary" || (verdict === "sniff" && looksBinary(bytes))) {
    return { kind: "binary", contentType: contentType || "unknown type", totalBytes };
  }
  const truncated = all.length > PREVIEW_LIMIT || (totalBytes !== null && totalBytes > bytes.length);
  const shown = truncated ? trimPartialUtf8(bytes) : bytes;
  const text = new TextDecoder("utf-8").decode(shown);
  return { kind: "text", text, shownBytes: shown.length, totalBytes, truncated };
}

/** A byte count for people. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  if (bytes < 1024 * 1024) {
    return `${(bytes / 1024).toFixed(1)} KiB`;
  }
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
