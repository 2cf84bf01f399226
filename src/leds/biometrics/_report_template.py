# ruff: noqa: E501  (HTML markup lines)
"""The HTML template of the biometric performance report (Jinja2, autoescaped).

Kept as a module so that it ships with the package (package data covers no ``.html``).
"""

HTML_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #eee; }
.notice { border-left: 4px solid #b60; padding: 0.4em 0.8em; background: #fff6e8; }
figure { display: inline-block; margin: 0.5em; }
figcaption { font-size: 0.85em; color: #555; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p class="notice">Results of a 1:N search are an <strong>{{ notice }}</strong>: every candidate
list is reviewed by a person before any action. Demographic groups are those
<strong>recorded in the person record</strong> (sex; age band from the date of birth; recorded
ethnicity) and are never inferred from an image.</p>

<h2>What was evaluated</h2>
<table>
<tr><td>Modality</td><td>{{ ev.modality }}</td></tr>
<tr><td>Algorithm</td><td>{{ ev.algorithm }}</td></tr>
<tr><td>Written</td><td>{{ created }}</td></tr>
<tr><td>Gallery size (N)</td><td>{{ ev.gallery_size if ev.gallery_size is not none else "—" }}</td></tr>
<tr><td>Candidate list length (R)</td><td>{{ ev.list_length }}</td></tr>
<tr><td>Mated / non-mated searches</td><td>{{ ev.overall.mated }} / {{ ev.overall.nonmated }}</td></tr>
<tr><td>FPIR target (identification mode)</td><td>{{ ev.fpir_target }}</td></tr>
<tr><td>Operating threshold at that FPIR</td><td>{{ ev.operating_threshold|f(6) }}</td></tr>
<tr><td>Thresholds evaluated</td><td>{% for t in ev.evaluated_thresholds %}{{ t|f(6) }}{% if not loop.last %}, {% endif %}{% endfor %}</td></tr>
{% for k, v in ev.parameters.items() %}
<tr><td>{{ k }}</td><td>{{ v }}</td></tr>
{% endfor %}
</table>
{% for note in ev.notes %}<p class="notice">{{ note }}</p>{% endfor %}

<h2>Headline figures</h2>
<table>
<thead><tr><th>figure</th><th>value</th></tr></thead>
<tr><td>FNIR at FPIR = {{ ev.fpir_target }} (rank &le; {{ ev.list_length }})</td><td>{{ ev.overall.fnir_at_fpir|f }}</td></tr>
<tr><td>FPIR achieved at the operating threshold</td><td>{{ ev.overall.fpir_at_operating|f }}</td></tr>
<tr><td>FNIR at rank 1, no threshold</td><td>{{ ev.overall.fnir_rank1|f }}</td></tr>
<tr><td>FNIR at rank {{ ev.list_length }}, no threshold</td><td>{{ ev.overall.fnir_rank_r|f }}</td></tr>
{% for t, pair in ev.overall.at_thresholds.items() %}
<tr><td>FNIR / FPIR at T = {{ t|f(6) }}</td><td>{{ pair[0]|f }} / {{ pair[1]|f }}</td></tr>
{% endfor %}
<tr><td>Failure to acquire (mated / non-mated probes; counted, not dropped)</td><td>{{ ev.overall.mated_fta }} / {{ ev.overall.nonmated_fta }}</td></tr>
<tr><td>Failure to enrol (of attempts)</td><td>{{ ev.overall.enrol_failures }} / {{ ev.overall.enrol_attempts }}</td></tr>
<tr><td>Mates not returned in the list</td><td>{{ ev.overall.mates_not_returned }}</td></tr>
</table>

{% if ev.one_to_one %}
<h2>1:1 verification</h2>
<p>{{ ev.one_to_one.genuine }} genuine comparisons ({{ ev.one_to_one.genuine_fta }} failed to acquire, counted as non-matches), {{ ev.one_to_one.impostor }} impostor comparisons.</p>
<table>
<thead><tr><th>FMR target</th><th>threshold</th><th>FMR achieved</th><th>FNMR</th></tr></thead>
{% for target, row in ev.one_to_one.fnmr_at_fmr.items() %}
<tr><td>{{ target }}</td><td>{{ row[0]|f(6) }}</td><td>{{ row[2]|f }}</td><td>{{ row[1]|f }}</td></tr>
{% endfor %}
</table>
{% endif %}

<h2>Plots</h2>
{% for file, caption in plots %}
<figure><img src="{{ file }}" alt="{{ caption }}" width="640"><figcaption>{{ caption }}</figcaption></figure>
{% endfor %}

<h2>By demographic group</h2>
<p>One threshold for everyone: the operating threshold is set on all non-mated searches and
applied to each group, so differences between rows are differences in how the algorithm treats
the groups (or sampling noise where counts are small).</p>
{% for dim in dimensions %}
<h3>{{ dim.replace("_", " ") }}</h3>
<table>
<thead><tr><th>group</th><th>mated</th><th>non-mated</th><th>FTA</th><th>FTE / attempts</th>
<th>FNIR @ FPIR {{ ev.fpir_target }}</th><th>FPIR @ op. T</th><th>FNIR rank 1</th>
<th>FNIR rank {{ ev.list_length }}</th>
{% for t in thresholds %}<th>FNIR / FPIR @ {{ t|f(6) }}</th>{% endfor %}
{% if ev.one_to_one_by_group.get(dim) %}{% for target in ev.one_to_one.fnmr_at_fmr %}<th>FNMR @ FMR {{ target }}</th>{% endfor %}{% endif %}
</tr></thead>
{% for group, r in ev.by_group[dim].items() %}
<tr><td>{{ group }}</td><td>{{ r.mated }}</td><td>{{ r.nonmated }}</td>
<td>{{ r.mated_fta + r.nonmated_fta }}</td><td>{{ r.enrol_failures }} / {{ r.enrol_attempts }}</td>
<td>{{ r.fnir_at_fpir|f }}</td><td>{{ r.fpir_at_operating|f }}</td><td>{{ r.fnir_rank1|f }}</td>
<td>{{ r.fnir_rank_r|f }}</td>
{% for t in thresholds %}<td>{{ r.at_thresholds[t][0]|f }} / {{ r.at_thresholds[t][1]|f }}</td>{% endfor %}
{% if ev.one_to_one_by_group.get(dim) %}{% set o = ev.one_to_one_by_group[dim].get(group) %}
{% for target in ev.one_to_one.fnmr_at_fmr %}<td>{{ (o.fnmr_at_fmr[target][1] if o else none)|f }}</td>{% endfor %}{% endif %}
</tr>
{% endfor %}
</table>
{% endfor %}

<h2>Definitions</h2>
<ul>
<li><strong>FNIR</strong>: share of mated searches whose mate is not returned at rank &le; R with score &ge; T; probes that failed to be acquired and mates that failed to enrol count as misses.</li>
<li><strong>FPIR</strong>: share of non-mated searches returning any candidate with score &ge; T.</li>
<li><strong>FNMR at FMR</strong> (1:1): share of genuine comparisons below the threshold at which that share of impostor comparisons score at or above it.</li>
<li>Files: summary.csv (every figure by group), det.csv, cmc.csv, histogram.csv; report.json holds the SHA-256 of each.</li>
</ul>
</body>
</html>
"""
