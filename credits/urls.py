from brain.api.routes import route
from credits import views

urlpatterns = [
    *route("credits/health", views.CreditsHealthView.as_view(), name="credits-health"),
    *route("credits/info", views.CreditsInfoView.as_view(), name="credits-info"),
    *route(
        "credits/accounts", views.AccountCreateView.as_view(), name="credits-accounts"
    ),
    *route("credits/allocate", views.AllocateView.as_view(), name="credits-allocate"),
    *route("credits/consume", views.ConsumeView.as_view(), name="credits-consume"),
    *route("credits/refund", views.RefundView.as_view(), name="credits-refund"),
    *route(
        "credits/balance/<str:agent_id>",
        views.BalanceView.as_view(),
        name="credits-balance",
    ),
    *route(
        "credits/balances", views.BalanceListView.as_view(), name="credits-balances"
    ),
    *route(
        "credits/history/<str:agent_id>",
        views.HistoryView.as_view(),
        name="credits-history",
    ),
]
