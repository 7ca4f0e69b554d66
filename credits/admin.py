"""Credits in admin: accounts open and credits move only through the services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from brain.errors import DomainError
from credits import services
from credits.models import (
    REASON_MAX_LENGTH,
    Account,
    LedgerEntry,
    format_amount,
    parse_amount,
)


def _clean_amount(value: str, *, allow_zero: bool = False):
    try:
        return parse_amount(value, allow_zero=allow_zero)
    except ValueError as exc:
        raise forms.ValidationError(f"Amount {exc}.") from None


class AccountAddForm(forms.ModelForm):
    initial_credits = forms.CharField(
        required=False,
        initial="0.00",
        help_text="Booked as an allocation with the reason “initial credits”.",
    )

    class Meta:
        model = Account
        fields = ["agent_id"]

    def clean_initial_credits(self):
        return _clean_amount(
            self.cleaned_data["initial_credits"] or "0", allow_zero=True
        )


class AllocateForm(forms.Form):
    amount = forms.CharField(help_text="Credits to add to each selected account.")
    reason = forms.CharField(max_length=REASON_MAX_LENGTH)

    def clean_amount(self):
        return _clean_amount(self.cleaned_data["amount"])


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["agent_id", "balance_display", "updated_at", "ledger_link"]
    search_fields = ["agent_id"]
    ordering = ["agent_id"]
    actions = ["allocate_credits"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = AccountAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["agent_id", "initial_credits"]
        return ["agent_id", "balance", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["agent_id", "balance", "created_at", "updated_at"]

    @admin.display(description="balance", ordering="balance")
    def balance_display(self, obj: Account) -> str:
        return format_amount(obj.balance)

    @admin.display(description="ledger")
    def ledger_link(self, obj: Account) -> str:
        url = reverse("admin:credits_ledgerentry_changelist")
        return format_html(
            '<a href="{}?agent__agent_id__exact={}">entries</a>', url, obj.pk
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """An account the service refuses after the form passed (opened meanwhile by
        another client) is shown as an error, not as added."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        if change:
            return
        created = services.account_create(
            agent_id=obj.agent_id,
            initial_credits=form.cleaned_data["initial_credits"],
        )
        obj.balance = created.balance
        obj.created_at = created.created_at
        obj.updated_at = created.updated_at
        obj._state.adding = False

    def has_change_permission(self, request, obj=None):
        # Nothing is edited in place: balances move only through the ledger.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_allocate_permission(self, request) -> bool:
        return request.user.has_perm("credits.add_ledgerentry")

    @admin.action(
        description="Allocate credits to selected accounts", permissions=["allocate"]
    )
    def allocate_credits(self, request, queryset):
        """Ask for an amount and a reason, then allocate through the service."""
        form = AllocateForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = 0
            for agent_id in queryset.values_list("pk", flat=True):
                try:
                    services.credits_allocate(
                        agent_id=agent_id,
                        amount=form.cleaned_data["amount"],
                        reason=form.cleaned_data["reason"],
                    )
                    done += 1
                except DomainError as exc:
                    self.message_user(
                        request, f"{agent_id}: {exc.detail}", messages.ERROR
                    )
            if done:
                self.message_user(
                    request,
                    f"Allocated {format_amount(form.cleaned_data['amount'])} credits "
                    f"to {done} account(s).",
                )
            return None
        return TemplateResponse(
            request,
            "admin/credits/account/allocate_credits.html",
            {
                **self.admin_site.each_context(request),
                "title": "Allocate credits",
                "opts": self.model._meta,
                "accounts": list(queryset),
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


class AgentFilter(admin.RelatedFieldListFilter):
    """Agents by id, without loading each account."""

    def field_choices(self, field, request, model_admin):
        agent_ids = Account.objects.order_by("pk").values_list("pk", flat=True)
        return [(agent_id, agent_id) for agent_id in agent_ids]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """The ledger, read-only: entries are appended by the services, never edited."""

    list_display = [
        "id",
        "created_at",
        "agent_id",
        "kind",
        "amount",
        "balance_after",
        "mission",
        "actor",
        "reason",
    ]
    list_filter = ["kind", ("agent", AgentFilter)]
    search_fields = ["=agent__agent_id", "reason", "=idempotency_key", "actor"]
    date_hierarchy = "created_at"
    ordering = ["-id"]
    fields = [
        "id",
        "agent_id",
        "kind",
        "amount",
        "balance_after",
        "reason",
        "mission",
        "actor",
        "idempotency_key",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description="mission", ordering="mission_id")
    def mission(self, obj: LedgerEntry) -> str:
        if obj.mission_id is None:
            return "—"
        try:
            url = reverse("admin:missions_mission_change", args=[obj.mission_id])
        except NoReverseMatch:
            return str(obj.mission_id)
        return format_html('<a href="{}">{}</a>', url, obj.mission_id)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
