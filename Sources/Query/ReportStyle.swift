extension ReportPage {
    /// The page's only styling, inline so the report needs nothing else: system fonts, a light
    /// background with white section cards, hairline borders, figures two to a row on wide
    /// screens and one on narrow ones, numeric columns right-aligned with tabular figures.
    /// Links are dark slate rather than blue so nothing on the page is mistaken for a series
    /// colour (the browser tests count those pixels).
    static let css = """

    :root { color-scheme: light; }
    * { box-sizing: border-box; }
    body { margin: 0; background: #f5f6f8; color: #1f2328;
      font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "DejaVu Sans", sans-serif; }
    .page { max-width: 1240px; margin: 0 auto; padding: 28px 24px 40px; }
    header h1 { font-size: 26px; line-height: 1.25; margin: 0 0 4px; font-weight: 650; overflow-wrap: anywhere; }
    header .subtitle { margin: 0; color: #57606a; overflow-wrap: anywhere; }
    nav.toc { background: #ffffff; border: 1px solid #e1e4e8; border-radius: 8px; padding: 12px 20px; margin: 20px 0; }
    nav.toc h2 { margin: 0 0 6px; font-size: 12px; font-weight: 600; letter-spacing: 0.06em; text-transform: uppercase; color: #57606a; }
    nav.toc ol { margin: 0; padding-left: 22px; column-width: 280px; column-gap: 32px; }
    nav.toc a { color: #334155; text-decoration: underline; text-decoration-color: #c4c9d0; text-underline-offset: 2px; }
    nav.toc a:hover { text-decoration-color: currentColor; }
    section { background: #ffffff; border: 1px solid #e1e4e8; border-radius: 8px; padding: 18px 24px 20px; margin: 18px 0; }
    section h2 { margin: 0 0 10px; font-size: 19px; line-height: 1.3; font-weight: 620; overflow-wrap: anywhere; }
    section p { margin: 0 0 10px; max-width: 85ch; white-space: pre-line; overflow-wrap: anywhere; }
    .table-wrap { overflow-x: auto; margin: 12px 0 16px; }
    table { border-collapse: collapse; font-size: 13.5px; line-height: 1.4; }
    th, td { padding: 5px 14px; text-align: left; vertical-align: top; border-bottom: 1px solid #eaecef; }
    th { background: #f3f4f6; font-weight: 600; color: #24292f; border-bottom: 1px solid #d0d7de; white-space: nowrap; }
    tbody tr:nth-child(even) td { background: #fafbfc; }
    th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
    .figures { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 16px; margin: 14px 0 2px; }
    figure { margin: 0; padding: 6px; background: #ffffff; border: 1px solid #eceef1; border-radius: 6px; }
    figure svg { display: block; max-width: 100%; height: auto; margin: 0 auto; }
    .figures > figure:only-child { grid-column: 1 / -1; justify-self: start; }
    @media (max-width: 900px) { .figures { grid-template-columns: minmax(0, 1fr); } }
    footer { margin-top: 28px; text-align: center; font-size: 12px; color: #8c959f; }
    @media print {
      body { background: #ffffff; }
      section, nav.toc { border: none; padding: 0; }
      figure, table { break-inside: avoid; }
    }

    """
}
