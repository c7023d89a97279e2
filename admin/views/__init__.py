"""The admin view's pages, one module per area; each exposes a RouteTableDef named `routes`."""

from admin.views import (
    account,
    associations,
    bilan,
    consultation,
    curation,
    exports,
    feedback,
    home,
    indicators,
    journal,
    plan,
    plan_action,
    plan_file,
    plan_indicators,
    plan_notify,
    questions,
    representativeness,
    review,
    second_factor,
    users,
)

ROUTE_TABLES = [home.routes, account.routes, users.routes, journal.routes]
ROUTE_TABLES += [second_factor.routes]
ROUTE_TABLES += [consultation.routes, questions.routes, representativeness.routes]
ROUTE_TABLES += [review.routes, curation.routes, exports.routes, indicators.routes]
ROUTE_TABLES += [bilan.routes]
ROUTE_TABLES += [associations.routes, feedback.routes]
ROUTE_TABLES += [plan.routes, plan_action.routes, plan_file.routes, plan_indicators.routes]
ROUTE_TABLES += [plan_notify.routes]
