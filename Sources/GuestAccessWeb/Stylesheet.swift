/// The pages' one stylesheet, served by the app (the CSP allows no inline style).
enum Stylesheet {
  static let path = "/static/guestaccess.css"

  static let response = HTTPResponse(
    status: 200,
    headers: [("Content-Type", "text/css; charset=utf-8"), ("Cache-Control", "public, max-age=3600"), ("X-Content-Type-Options", "nosniff")],
    body: Array(css.utf8))

  static let css = """
    :root { color-scheme: light; --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --accent: #0b5cad; --accent-ink: #ffffff;
      --danger: #b42318; --ok: #1a7f37; --bg: #f3f5f8; }
    * { box-sizing: border-box; }
    html { font-size: 100%; }
    body { margin: 0; background: var(--bg); color: var(--ink);
      font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
    .card { max-width: 34rem; margin: 2rem auto; background: #fff; border: 1px solid var(--line); border-radius: 12px;
      padding: 1.5rem 1.75rem; box-shadow: 0 1px 3px rgba(27, 31, 36, .08); }
    @media (max-width: 36rem) { .card { margin: 0; border-radius: 0; border-width: 0 0 1px 0; padding: 1.25rem 1rem; } }
    h1 { font-size: 1.45rem; line-height: 1.25; margin: 0 0 1rem; }
    h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
    p { margin: .5rem 0; }
    .muted { color: var(--muted); font-size: .925rem; }
    .brand { color: var(--muted); font-size: .8rem; letter-spacing: .08em; text-transform: uppercase; margin-bottom: .75rem; }
    dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1rem; margin: 1rem 0; }
    dl.facts dt { color: var(--muted); }
    dl.facts dd { margin: 0; overflow-wrap: anywhere; }
    blockquote { margin: 1rem 0; padding: .75rem 1rem; background: var(--bg); border-left: 4px solid var(--line); border-radius: 4px; }
    ul { padding-left: 1.25rem; }
    label { display: block; font-weight: 600; margin: 1rem 0 .35rem; }
    input[type=text], input[type=password], input[type=email] { width: 100%; font: inherit; padding: .65rem .75rem; border: 1px solid var(--line);
      border-radius: 8px; }
    input.code { font-size: 1.4rem; letter-spacing: .25em; font-variant-numeric: tabular-nums; }
    input:focus, button:focus, a:focus { outline: 3px solid #80b3e6; outline-offset: 1px; }
    .actions { display: flex; flex-wrap: wrap; gap: .75rem; margin-top: 1.25rem; }
    button, a.button { font: inherit; font-weight: 600; padding: .65rem 1.25rem; border-radius: 8px; border: 1px solid var(--accent);
      background: var(--accent); color: var(--accent-ink); cursor: pointer; text-decoration: none; display: inline-block; }
    button.secondary { background: #fff; color: var(--ink); border-color: var(--line); }
    .error { color: var(--danger); background: #fef3f2; border: 1px solid #fecdca; border-radius: 8px; padding: .6rem .8rem; }
    .success { color: var(--ok); }
    .hint { color: var(--muted); font-size: .875rem; margin-top: .35rem; }
    """
}
