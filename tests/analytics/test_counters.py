"""The counts kept by PostgreSQL triggers (items, review decisions, review seconds) stay equal to a count of
their source rows, whatever writes them."""

from collections import Counter

import pytest
from django.db import connection

from analytics import counters
from analytics.models import ItemCount, ReviewAgreement, ReviewCount, ReviewSeconds
from analytics.selectors import reviewer_figures, user_dashboard
from analytics.selectors.progress import item_groups, item_groups_counted
from labeling.models import Item
from review.models import ReviewDecision
from tests.factories import ItemFactory, ProjectFactory
from tests.review.scenario import item_waiting, submit

pytestmark = pytest.mark.django_db


def as_counter(groups) -> Counter:
    return Counter({(state, source, str(labels), str(model)): n for state, source, labels, model, n in groups})


def assert_exact(project) -> None:
    assert as_counter(item_groups(project=project)) == as_counter(item_groups_counted(project=project))


def test_inserts_updates_deletes_and_bulk_sql_keep_the_counts_exact(world, client_for, postgres_only):
    project = world.project
    items = [item_waiting(project, world.schema, top="cat") for _ in range(4)]
    Item.objects.bulk_create([Item(project=project, kind="text", text=f"bulk {n}", content_hash=f"bulk-{n}")
                              for n in range(5)])
    assert_exact(project)
    rita = client_for(world.reviewer)
    assert submit(rita, items[0], "approve").status_code == 201
    assert submit(rita, items[1], "modify", labels=["dog"]).status_code == 201
    assert submit(rita, items[2], "reject").status_code == 201
    assert rita.post("/api/review/undo", {"project": project.pk}, format="json").status_code == 200
    assert_exact(project)
    rows_before = ItemCount.objects.count()
    Item.objects.filter(project=project).update(confidence=0.3)  # changes no counted column: nothing appended
    assert ItemCount.objects.count() == rows_before
    with connection.cursor() as cursor:
        cursor.execute("UPDATE labeling_item SET state = 'auto_accepted', final_source = 'auto', "
                       "final_labels = '[\"bird\"]' WHERE project_id = %s AND state = 'unlabelled'", [project.pk])
    Item.objects.filter(pk=items[3].pk).delete()
    assert_exact(project)
    by_state = Counter()
    for state, _, _, _, n in item_groups(project=project):
        by_state[state] += n
    assert by_state == {"auto_accepted": 5, "reviewed": 2, "needs_review": 1}


def test_compaction_folds_deltas_and_rebuild_recounts(world, postgres_only):
    project, other = world.project, ProjectFactory()
    for n in range(3):
        ItemFactory(project=project, state="needs_review", text=f"a {n}")
    ItemFactory(project=other, state="unlabelled")
    Item.objects.filter(project=project).update(state="reviewed", final_source="review", final_labels=["cat"])
    Item.objects.filter(project=other).delete()
    assert ItemCount.objects.filter(project_id=project.pk).count() == 5  # 3 inserts (a row each), then one update: −3 and +3

    left = counters.counts_compact()

    assert left == 1  # the other project's rows summed to zero and went
    assert list(ItemCount.objects.values_list("project_id", "state", "final_source", "final_labels", "n")) == [
        (project.pk, "reviewed", "review", ["cat"], 3)]
    ItemCount.objects.all().delete()  # lost: a rebuild recounts from the items
    counters.counts_rebuild()
    assert_exact(project)
    assert counters.install() == []  # already installed: no rebuild


def from_decisions(monkeypatch, call):
    """``call()`` with the counters switched off: the same figures aggregated from the decisions."""
    with monkeypatch.context() as patch:
        patch.setattr(counters, "enabled", lambda using="default": False)
        return call()


def review_groups(project) -> Counter:
    kept = Counter()
    for row in ReviewCount.objects.filter(project_id=project.pk).values("reviewer_id", "decision", "is_gold", "n"):
        kept[(row["reviewer_id"], row["decision"], row["is_gold"])] += row["n"]
    live = Counter()
    for reviewer_id, decision, is_gold in ReviewDecision.objects.filter(project=project, undone_at__isnull=True)\
            .values_list("reviewer_id", "decision", "is_gold"):
        live[(reviewer_id, decision, is_gold)] += 1
    return +kept, live


def test_review_counts_follow_decisions_undo_gold_and_bulk_sql(world, client_for, postgres_only, monkeypatch):
    project, schema = world.project, world.schema
    rita, rob = client_for(world.reviewer), client_for(world.reviewer2)
    for client, top, decision, labels, seconds in [
        (rita, "cat", "approve", None, 2.5), (rita, "dog", "modify", ["cat"], 7), (rita, "bird", "reject", None, 4),
        (rob, "cat", "approve", None, 1.5), (rob, "cat", "modify", ["dog"], 9), (rob, "dog", "approve", None, 9),
    ]:
        assert submit(client, item_waiting(project, schema, top=top), decision, labels=labels,
                      seconds=seconds).status_code == 201
    gold = item_waiting(project, schema, top="cat", state=Item.State.AUTO_ACCEPTED, gold_labels=["dog"])
    assert submit(rita, gold, "approve", seconds=30).status_code == 201
    assert rob.post("/api/review/undo", {"project": project.pk}, format="json").status_code == 200  # rob's 9 s approve
    assert rita.post("/api/review/undo", {"project": project.pk}, format="json").status_code == 200  # rita's gold

    kept, live = review_groups(project)
    assert kept == live == Counter({(world.reviewer.pk, "approve", False): 1, (world.reviewer.pk, "modify", False): 1,
                                    (world.reviewer.pk, "reject", False): 1, (world.reviewer2.pk, "approve", False): 1,
                                    (world.reviewer2.pk, "modify", False): 1})
    figures = reviewer_figures(project=project)
    assert figures == from_decisions(monkeypatch, lambda: reviewer_figures(project=project))
    by_id = {row["id"]: row for row in figures["reviewers"]}
    # rita: 2.5, 4, 7 → median 4; rob: 1.5, 9 → (1.5 + 9) ÷ 2; the project: 1.5, 2.5, 4, 7, 9 → 4
    assert (by_id[world.reviewer.pk]["median_seconds"], by_id[world.reviewer2.pk]["median_seconds"]) == (4.0, 5.25)
    assert (figures["project"]["median_seconds"], figures["project"]["seconds"]) == (4.0, 24.0)
    assert figures["project"]["gold"] == {"answered": 0, "correct": 0, "accuracy": None}
    mine = user_dashboard(user=world.reviewer)
    assert mine == from_decisions(monkeypatch, lambda: user_dashboard(user=world.reviewer))
    assert (mine["reviewed"], mine["reviewed_today"], mine["seconds"]) == (3, 3, 13.5)

    # Bulk SQL: undo every rob decision at once, then delete one of rita's; the counts follow.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE review_reviewdecision SET undone_at = now() WHERE reviewer_id = %s",
                       [world.reviewer2.pk])
    ReviewDecision.objects.filter(reviewer=world.reviewer, decision="reject").delete()
    kept, live = review_groups(project)
    assert kept == live == Counter({(world.reviewer.pk, "approve", False): 1, (world.reviewer.pk, "modify", False): 1})
    figures = reviewer_figures(project=project)
    assert figures == from_decisions(monkeypatch, lambda: reviewer_figures(project=project))
    assert [row["email"] for row in figures["reviewers"]] == ["rita@example.com"]
    assert figures["project"]["median_seconds"] == (2.5 + 7) / 2

    counters.counts_compact()
    assert list(ReviewSeconds.objects.filter(project_id=project.pk).order_by("seconds")
                .values_list("reviewer_id", "seconds", "n")) == [(world.reviewer.pk, 2.5, 1), (world.reviewer.pk, 7.0, 1)]
    assert ReviewCount.objects.filter(project_id=project.pk).count() == 2
    assert figures == reviewer_figures(project=project)


def test_agreement_pairs_follow_overlap_undo_and_deletes(world, client_for, make_member, postgres_only, monkeypatch):
    project = world.project
    project.overlap_fraction, project.overlap_reviewers = 1.0, 3
    project.save()
    third = make_member("reviewer", project.organization, email="tess@example.com")
    clients = [client_for(world.reviewer), client_for(world.reviewer2), client_for(third)]
    # Three reviewers on each item: cat/cat/dog, dog/dog/dog, cat/reject/cat, bird/bird/(rob's undone "cat")
    items = []
    for answers in [("cat", "cat", "dog"), ("dog", "dog", "dog"), ("cat", "reject", "cat"), ("bird", "bird", None)]:
        item = item_waiting(project, world.schema, top="cat")
        items.append(item)
        for client, answer in zip(clients, answers, strict=True):
            if answer is None:
                continue
            decision = "approve" if answer == "cat" else "reject" if answer == "reject" else "modify"
            labels = [answer] if decision == "modify" else None
            assert submit(client, item, decision, labels=labels).status_code == 201
    assert submit(clients[1], item_waiting(project, world.schema, top="cat"), "approve").status_code == 201
    assert clients[1].post("/api/review/undo", {"project": project.pk}, format="json").status_code == 200

    agreement = reviewer_figures(project=project)["project"]["agreement"]
    expected = from_decisions(monkeypatch, lambda: reviewer_figures(project=project))["project"]["agreement"]
    assert agreement["items"] == expected["items"] == 4
    assert [(p["reviewers"], p["items"]) for p in agreement["pairs"]] == [
        (p["reviewers"], p["items"]) for p in expected["pairs"]]
    assert [p["kappa"] for p in agreement["pairs"]] == pytest.approx([p["kappa"] for p in expected["pairs"]])
    assert agreement["alpha"] == pytest.approx(expected["alpha"])
    # Units: {c,c,d} {d,d,d} {c,R,c} (3 raters: each pair ½) and {b,b} (2 raters: 1).
    # o_cc = ½·2 + ½·2 = 2, o_cd = o_dc = ½·2 = 1, o_dd = ½·6 = 3, o_cR = o_Rc = ½·2 = 1, o_bb = 2; n = 11
    # n_c = 4, n_d = 4, n_R = 1, n_b = 2; D_o = 4; D_e = Σ_{c≠k} n_c n_k = 121 − (16 + 16 + 1 + 4) = 84
    # α = 1 − (n − 1) D_o ÷ D_e = 1 − 10 × 4 ÷ 84
    assert agreement["alpha"] == pytest.approx(1 - 40 / 84)
    rows_before = ReviewAgreement.objects.filter(project_id=project.pk).count()

    Item.objects.filter(pk=items[0].pk).delete()  # its decisions go with it

    agreement = reviewer_figures(project=project)["project"]["agreement"]
    expected = from_decisions(monkeypatch, lambda: reviewer_figures(project=project))["project"]["agreement"]
    assert agreement["items"] == expected["items"] == 3
    assert agreement["alpha"] == pytest.approx(expected["alpha"])
    assert ReviewAgreement.objects.filter(project_id=project.pk).count() > rows_before  # deltas appended
    counters.counts_compact()
    ReviewAgreement.objects.all().delete()
    counters.counts_rebuild()
    assert reviewer_figures(project=project)["project"]["agreement"] == agreement
