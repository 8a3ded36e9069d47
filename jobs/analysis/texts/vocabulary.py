"""Words that mean the same in the writing the app reads (data descriptions, studies,
reports, software documentation), so that a question finds a document that answers it in
other words: "samples" finds "instances", "binary" finds "two classes".

A curated, general table that works offline, matched on word stems (Snowball, through
PyStemmer) so that one entry covers singular, plural and verb forms. Each group lists
words and phrases that a writer would use interchangeably; it is not fitted to any one
document.
"""

from __future__ import annotations

import threading
from functools import cache

import Stemmer

GROUPS = [
    # Data and its parts
    "sample|instance|observation|record|example|data point|row|case|entry|item",
    "feature|attribute|variable|predictor|column|covariate|field|characteristic",
    "class|label|category|target|outcome|response|group",
    "classification|classify|categorization|categorisation|class|label",
    "binary|two classes|two-class|dichotomous|two categories|yes/no|two groups|two outcomes",
    "multiclass|multi-class|three classes|several classes|multinomial|multiple classes",
    "dataset|data set|database|corpus|collection|data",
    "missing|null|unknown|absent|not available|na|nan",
    "numeric|numerical|continuous|real-valued|quantitative",
    "categorical|nominal|discrete|qualitative",
    "duplicate|repeated|redundant",
    "image|picture|photo|photograph|scan",
    "size|count|number|total|amount|quantity",
    "source|origin|provenance|donor|creator|author|contributor",
    "create|creator|author|make|develop|design|build|originate",
    "donate|donor|contribute|contributor|provide|supply",
    "contain|hold|include|comprise|consist|have",
    "species|type|kind|variety|class",
    # Measures and statistics
    "rate|proportion|percentage|percent|share|ratio|fraction|prevalence|incidence",
    "accuracy|performance|error rate|score",
    "effect|impact|influence|association|coefficient|coef|estimate|relationship",
    "significant|significance|p-value|p value",
    "error|err|standard error|std err",
    "coefficient|coef|estimate|beta|slope|weight",
    "interval|confidence interval|range|bounds",
    "average|mean|typical|expected value",
    "median|middle value",
    "variance|spread|dispersion|standard deviation|variability",
    "estimate|predict|forecast|project|model",
    "measure|metric|indicator|index|statistic",
    "increase|rise|growth|gain|higher|more|grow|raise",
    "decrease|decline|reduction|drop|fall|lower|fewer|less|reduce|shrink",
    "large|big|huge|major|substantial",
    "highest|high|maximum|max|top|largest|greatest|peak|strongest",
    "lowest|low|minimum|min|smallest|least|weakest",
    "correlation|correlated|correlate|association|relationship",
    "small|little|minor|slight|tiny",
    # People and studies
    "people|person|individual|participant|subject|respondent|patient|member",
    "child|kid|minor|pediatric|paediatric|youth|juvenile",
    "elderly|older adult|senior|aged|older people",
    "woman|female",
    "man|male",
    "study|research|trial|experiment|investigation|survey",
    "treatment|therapy|intervention|medication|drug|medicine",
    "doctor|physician|clinician",
    "death|mortality|fatality|died|deceased",
    "disease|illness|disorder|condition|sickness",
    "cancer|tumour|tumor|malignancy|carcinoma|neoplasm",
    "benign|non-cancerous|noncancerous",
    "malignant|cancerous",
    "diagnosis|detection|identification|screening",
    "risk|hazard|odds|likelihood|chance",
    # Economy and society
    "wage|salary|income|earnings|pay",
    "price|cost|expense|fee|charge",
    "job|employment|work|occupation",
    "unemployment|joblessness",
    "house|home|dwelling|housing|residence",
    "car|automobile|vehicle",
    "country|nation|state",
    "city|town|municipality|urban",
    "region|area|district|zone",
    "year|annual|yearly|annually|per year",
    "month|monthly",
    "population|inhabitants|residents",
    # Software and documentation
    "function|method|routine|procedure|callable",
    "parameter|argument|option|setting",
    "return|output|result|yield",
    "error|exception|failure|fault",
    "default|standard",
    "fast|quick|speed|performance",
    "memory|ram|storage",
    "file|document",
    "install|installation|setup",
    "version|release",
    "licence|license",
    "begin|start|commence|initial",
    "end|finish|final|conclude",
    "use|usage|apply|employ",
    "show|display|present|report",
    "cause|lead to|result in|produce",
    "compare|comparison|versus|vs",
]


# PyStemmer's stemmers keep a word cache and the Snowball state on the object, and are
# not safe to use from two threads at once: one per job thread.
_STEMMERS = threading.local()


def stemmer() -> Stemmer.Stemmer:
    found = getattr(_STEMMERS, "stemmer", None)
    if found is None:
        found = _STEMMERS.stemmer = Stemmer.Stemmer("english")
    return found


def stem(words: list[str]) -> list[str]:
    return stemmer().stemWords(words)


def _stems(phrase: str) -> tuple[str, ...]:
    return tuple(stem(phrase.lower().replace("-", " ").replace("/", " ").split()))


@cache
def _index() -> dict[str, list[tuple[str, ...]]]:
    """Each word's stem mapped to the stemmed words of every entry in its groups."""
    index: dict[str, list[tuple[str, ...]]] = {}
    for group in GROUPS:
        entries = [_stems(entry) for entry in group.split("|")]
        for entry in entries:
            if len(entry) == 1:
                index.setdefault(entry[0], []).extend(e for e in entries if e != entry)
    return index


def expand(stems: list[str]) -> list[str]:
    """Stems of the words that mean what `stems` mean, none of `stems` themselves, each
    once, in a stable order. Of a phrase ("two classes", "error rate") only its last word
    is taken, the noun that carries it in English."""
    asked = set(stems)
    found: list[str] = []
    for word in stems:
        for entry in _index().get(word, []):
            part = entry[-1]
            if part not in asked and part not in found:
                found.append(part)
    return found
