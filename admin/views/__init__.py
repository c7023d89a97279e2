"""The admin view's pages, one module per area; each exposes a RouteTableDef named `routes`."""

from admin.views import home

ROUTE_TABLES = [home.routes]
