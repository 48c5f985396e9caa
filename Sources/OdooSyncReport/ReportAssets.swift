/// The page's stylesheet and its one script, inlined so the file opens offline.
enum ReportAssets {
    static let css = """
        :root{--ink:#1d2733;--muted:#5f6b7a;--line:#e3e7ed;--bg:#f4f6f9;--card:#fff;--head:#12263f;\
        --accent:#2d6cdf;--track:#eef2f8;--good:#1e8a4c;--bad:#c42b2b;--warn:#b45309;--warn-bg:#fff4e5;--overdue:#e0672b}
        *{box-sizing:border-box}
        html{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Liberation Sans",Arial,sans-serif;\
        color:var(--ink);background:var(--bg);-webkit-text-size-adjust:100%}
        body{margin:0}
        code{font:0.86em/1.3 ui-monospace,"SFMono-Regular","DejaVu Sans Mono","Liberation Mono",Menlo,monospace;\
        background:#eef1f5;border-radius:3px;padding:0 3px;overflow-wrap:anywhere}
        .wrap{max-width:1240px;margin:0 auto;padding:0 28px}
        .skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:6px 10px;z-index:2}
        .vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
        header.top{background:var(--head);color:#fff;padding:22px 0 0;margin-bottom:22px}
        header.top h1{margin:0;font-size:1.7rem;letter-spacing:-0.01em}
        header.top .sub{margin:4px 0 14px;color:#c6d3e3}
        header.top .path{overflow-wrap:anywhere}
        header.top code{background:#24405f;color:#fff}
        nav ul{display:flex;flex-wrap:wrap;gap:4px;margin:0;padding:0;list-style:none}
        nav a{display:block;padding:8px 12px;color:#dbe6f3;text-decoration:none;border-bottom:3px solid transparent}
        nav a:hover,nav a:focus{color:#fff;border-bottom-color:#6aa0ff}
        a{color:var(--accent)}
        :focus-visible{outline:3px solid #6aa0ff;outline-offset:2px}
        h2{font-size:1.25rem;margin:0 0 6px}
        h3{font-size:1rem;margin:0 0 6px}
        .section-title{margin:26px 0 10px}
        .card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:20px 22px;margin:0 0 20px;\
        box-shadow:0 1px 2px rgba(16,38,63,.05)}
        .lede{color:var(--muted);margin:0 0 14px;max-width:80ch}
        .kpis dl{display:grid;grid-template-columns:repeat(6,minmax(0,1fr));gap:14px;margin:0 0 20px}
        .kpi{background:var(--card);border:1px solid var(--line);border-top:4px solid var(--accent);border-radius:10px;padding:12px 14px}
        .kpi.good{border-top-color:var(--good)}.kpi.warn{border-top-color:var(--overdue)}
        .kpi dt{color:var(--muted);font-size:.82rem;text-transform:uppercase;letter-spacing:.04em}
        .kpi dd{margin:2px 0 0}
        .kpi .big{display:block;font-size:1.7rem;font-weight:650;font-variant-numeric:tabular-nums;line-height:1.2}
        .kpi .note{display:block;color:var(--muted);font-size:.82rem}
        .split{display:grid;grid-template-columns:minmax(0,2.4fr) minmax(230px,1fr);gap:24px;align-items:start;margin-bottom:16px}
        .pair{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:20px;align-items:start}
        .pair>.card{margin:0}
        .triple{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:20px;margin:18px 0}
        figure{margin:0}
        .chart{display:block;width:100%;height:auto;overflow:visible}
        .chart text{font-size:12.5px;fill:var(--ink)}
        .chart .c-axis{fill:var(--muted);font-size:11px}
        .chart .c-empty{fill:var(--muted);font-size:14px}
        .c-bar{fill:var(--accent)}.c-track{fill:var(--track)}.c-muted{fill:#a9b4c2}
        .c-overdue{fill:var(--overdue)}.c-bad{fill:var(--bad)}.c-good{fill:var(--good)}
        .c-grid{stroke:var(--line);stroke-width:1}.c-hit{fill:transparent}
        .chart g:hover rect:not(.c-hit):not(.c-track){opacity:.85}
        .closed{display:grid;grid-template-columns:1fr 1fr;gap:12px}
        .closed-box{border:1px solid var(--line);border-radius:8px;padding:12px 14px;border-left:5px solid var(--good)}
        .closed-box.muted{border-left-color:#8d99a8}
        .closed-box h3{margin:0;font-size:.85rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
        .closed-box p{margin:0;color:var(--muted);font-size:.85rem}
        .closed-box .big{font-size:1.6rem;font-weight:650;color:var(--ink);font-variant-numeric:tabular-nums}
        .closed-box .money{font-size:1.1rem;font-weight:600;color:var(--ink);margin-top:6px;font-variant-numeric:tabular-nums}
        .rate{grid-column:1/-1;margin:0}
        .alert{grid-column:1/-1;margin:0;background:var(--warn-bg);border-left:4px solid var(--overdue);padding:8px 12px;border-radius:4px}
        table.data{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:.92rem}
        table.data caption{text-align:left;font-weight:600;padding:0 0 6px;color:var(--ink)}
        table.data th,table.data td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
        table.data thead th{font-size:.75rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);\
        border-bottom:2px solid var(--line);background:var(--card);position:sticky;top:0;vertical-align:bottom}
        table.data tbody th{font-weight:600}
        table.data tfoot th,table.data tfoot td{font-weight:700;border-top:2px solid var(--line);border-bottom:0}
        table.data .num{text-align:right;white-space:nowrap}
        table.data tr.group th{background:#f7f9fc;color:var(--muted);font-size:.8rem;text-transform:uppercase;letter-spacing:.04em}
        table.data tbody tr:hover{background:#f8fafd}
        table.compact th,table.compact td{padding:4px 8px}
        .slug{font:400 .75rem ui-monospace,"DejaVu Sans Mono",monospace;color:var(--muted);margin-left:4px}
        .odoo-names{color:var(--muted);font-size:.85rem;max-width:28ch}
        td.date{white-space:nowrap}
        .card>h3:not(:first-child),.card>div>h3{margin-top:22px}
        td.overdue,span.overdue,.warn-text{color:var(--bad);font-weight:650}
        tr.overdue-row th{color:var(--bad)}
        .badge{display:inline-block;padding:0 7px;border-radius:9px;font-size:.78rem;font-weight:600;background:#e8edf3;color:#344355;white-space:nowrap}
        .badge.good{background:#def3e6;color:#17663a}.badge.bad{background:#fbe3e3;color:#9b1c1c}.badge.warn{background:#ffe9d6;color:#8a3b0c}
        .swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 2px;vertical-align:baseline}
        .swatch.overdue{background:var(--overdue)}.swatch.bad{background:var(--bad)}.swatch.good{background:var(--good)}
        .scroll{max-height:360px;overflow:auto;margin-top:12px;border-top:1px solid var(--line)}
        .scroll.tall{max-height:560px}
        .empty,.none,.muted{color:var(--muted)}
        .runs{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:14px;margin:8px 0 0}
        .run{border:1px solid var(--line);border-radius:8px;padding:10px 14px}
        .run p{margin:2px 0;font-size:.9rem}.run .big{font-size:1.3rem}
        .conflicts .big{font-size:1.7rem;font-weight:650;margin:0}
        ul.plain{list-style:none;padding:0;margin:6px 0}
        ol.events{list-style:none;padding:0;margin:0;font-size:.88rem}
        ol.events li{padding:4px 0;border-bottom:1px solid var(--line)}
        ol.events time{color:var(--muted);margin-right:4px}
        th button{font:inherit;color:inherit;text-transform:inherit;letter-spacing:inherit;text-align:inherit;\
        background:none;border:0;padding:0;margin:0;cursor:pointer}
        th button::after{content:"\\00a0↕";opacity:.35;font-size:.9em}
        th[aria-sort=ascending] button::after{content:"\\00a0▲";opacity:.8}
        th[aria-sort=descending] button::after{content:"\\00a0▼";opacity:.8}
        .small{font-size:.9rem}.defs dt{font-weight:650;margin-top:8px}.defs dd{margin:2px 0 0}
        footer{color:var(--muted);font-size:.85rem;padding-bottom:30px}
        @media (max-width:1100px){.kpis dl{grid-template-columns:repeat(3,minmax(0,1fr))}.pair,.split{grid-template-columns:1fr}}
        @media (max-width:700px){.kpis dl,.runs,.triple{grid-template-columns:1fr 1fr}.wrap{padding:0 14px}}
        @media print{
        @page{size:A4 landscape;margin:12mm}
        html{font-size:10pt;background:#fff}
        *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
        .skip,nav,.screen-only{display:none}
        header.top{background:#fff;color:#000;padding:0;border-bottom:2px solid #000;margin-bottom:10pt}
        header.top .sub{color:#333}header.top code{background:none;color:#000}
        .wrap{max-width:none;padding:0}
        .card,.kpi,.run,.closed-box{box-shadow:none;break-inside:avoid}
        .card{border-color:#bbb;padding:10pt;margin-bottom:10pt}
        #stale,#revenue .card{break-inside:auto}
        .kpis dl{gap:6pt}
        .kpi .big{font-size:1.4rem}
        table.data th,table.data td{padding:3px 6px}
        .scroll,.scroll.tall{max-height:none;overflow:visible;border:0}
        table.data thead th{position:static}
        table.data tr{break-inside:avoid}
        thead{display:table-header-group}
        th button::after{content:""}
        a{color:inherit;text-decoration:none}
        footer{padding:0}
        }
        """

    /// Sorting for tables marked `sortable`: headings become buttons, `aria-sort` says the
    /// order, and `#sort=<table id>:<column>:<asc|desc>` in the address opens the page sorted.
    static let script = """
        (function(){
        function key(cell,numeric){var v=cell.getAttribute('data-sort');if(v===null)v=cell.textContent.trim();\
        if(!numeric)return v.toLowerCase();var n=parseFloat(v);return isNaN(n)?-Infinity:n}
        function sort(table,col,dir){var head=table.tHead.rows[0].cells,numeric=head[col].getAttribute('data-type')==='number',\
        body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows),sign=dir==='ascending'?1:-1;\
        rows.sort(function(a,b){var x=key(a.cells[col],numeric),y=key(b.cells[col],numeric);return x<y?-sign:x>y?sign:0});\
        rows.forEach(function(r){body.appendChild(r)});\
        for(var i=0;i<head.length;i++)head[i].removeAttribute('aria-sort');head[col].setAttribute('aria-sort',dir)}
        var tables=document.querySelectorAll('table.sortable');
        Array.prototype.forEach.call(tables,function(table){var head=table.tHead.rows[0].cells;\
        Array.prototype.forEach.call(head,function(th,i){var b=document.createElement('button');b.type='button';\
        while(th.firstChild)b.appendChild(th.firstChild);th.appendChild(b);\
        b.addEventListener('click',function(){sort(table,i,th.getAttribute('aria-sort')==='ascending'?'descending':'ascending')})})});
        var m=/sort=([A-Za-z0-9_-]+):([0-9]+):(asc|desc)/.exec(location.hash);
        if(m){var t=document.getElementById(m[1]);if(t&&t.classList.contains('sortable')&&+m[2]<t.tHead.rows[0].cells.length)\
        sort(t,+m[2],m[3]==='asc'?'ascending':'descending')}
        document.documentElement.setAttribute('data-script','ran');
        })();
        """
}
