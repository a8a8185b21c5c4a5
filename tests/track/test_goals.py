"""Goal roll-up with hand-computed progress, status and gap driver."""

from __future__ import annotations

from tolok.spec.models import Project
from tolok.track.goals import KpiStanding, goal_tree
from tolok.track.status import Standing


def project() -> Project:
    return Project.model_validate(
        {
            "name": "T",
            "goals": {
                "grow": {"title": "Grow"},
                "buyers": {"title": "More buyers", "parent": "grow", "weight": 2},
                "service": {"title": "Service"},
            },
            "kpis": {
                "revenue": {"formula": "1", "goal": "grow"},
                "conversion": {"formula": "1", "goal": "buyers", "weight": 3},
                "traffic": {"formula": "1", "goal": "buyers"},
                "untargeted": {"formula": "1", "goal": "buyers"},
                "csat": {"formula": "1", "goal": "service"},
            },
        }
    )


def test_progress_status_and_driver() -> None:
    standings = {
        "revenue": KpiStanding(1.10, Standing.on_track),  # counts as 1
        "conversion": KpiStanding(0.70, Standing.off_track),
        "traffic": KpiStanding(0.98, Standing.on_track),
        "untargeted": KpiStanding(None, Standing.no_target),  # does not count
        "csat": KpiStanding(None, Standing.no_target),
    }
    grow, service = goal_tree(project(), standings)
    [buyers] = grow.children
    # More buyers: (3 x 0.70 + 1 x 0.98) / 4 = 0.77
    assert buyers.progress is not None
    assert abs(buyers.progress - 0.77) < 1e-9
    assert buyers.standing is Standing.off_track
    assert buyers.driver == "conversion"
    # Grow: (1 x 1.0 + 2 x 0.77) / 3 = 0.8467, driven by the child goal's driver.
    assert grow.progress is not None
    assert abs(grow.progress - 2.54 / 3) < 1e-9
    assert grow.standing is Standing.off_track
    assert grow.driver == "conversion"
    assert (service.progress, service.standing, service.driver) == (
        None,
        Standing.no_target,
        None,
    )


def test_a_goal_on_target_has_no_driver() -> None:
    standings = {name: KpiStanding(1.0, Standing.on_track) for name in project().kpis}
    grow, _ = goal_tree(project(), standings)
    assert (grow.progress, grow.standing, grow.driver) == (1.0, Standing.on_track, None)
