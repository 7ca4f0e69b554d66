"""Robots in admin: registering, editing and the Stop action go through the services."""

from django.contrib import admin, messages
from django.db.models import QuerySet, Subquery

from brain.access.admin_actions import token_actions
from brain.errors import DomainError
from hardware import selectors, services
from hardware.models import Robot, RobotCommand, RobotState

INLINE_ROWS = 50


class RecentReadOnlyInline(admin.TabularInline):
    """The robot's newest rows, read-only: history is written by the robot only."""

    extra = 0
    can_delete = False
    show_change_link = False

    def recent(self, queryset: QuerySet, robot: Robot) -> QuerySet:
        newest = queryset.filter(robot=robot).order_by(*self.ordering)[:INLINE_ROWS]
        return queryset.filter(pk__in=Subquery(newest.values("pk")))

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RobotStateInline(RecentReadOnlyInline):
    model = RobotState
    verbose_name_plural = f"state reports (newest {INLINE_ROWS})"
    fields = [
        "timestamp",
        "battery_percentage",
        "battery_voltage",
        "motor_states",
        "imu_data",
        "received_at",
    ]
    readonly_fields = fields
    ordering = ["-timestamp", "-id"]


class RobotCommandInline(RecentReadOnlyInline):
    model = RobotCommand
    verbose_name_plural = f"commands (newest {INLINE_ROWS})"
    fields = [
        "id",
        "command_type",
        "linear_x",
        "linear_y",
        "angular_z",
        "status",
        "detail",
        "sent_by",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sent_by")


@admin.register(Robot)
class RobotAdmin(admin.ModelAdmin):
    list_display = ["robot_id", "name", "model", "online", "battery", "last_seen"]
    list_filter = ["model"]
    search_fields = ["robot_id", "name"]
    ordering = ["robot_id"]
    inlines = [RobotStateInline, RobotCommandInline]
    actions = [
        "stop",
        *token_actions(
            "robot",
            issue=lambda ident: services.robot_token_issue(robot_id=ident),
            revoke=lambda ident: services.robot_token_revoke(robot_id=ident),
        ),
    ]

    def get_queryset(self, request):
        return selectors.robot_list()

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["robot_id", "name", "model"]
        return [
            "robot_id",
            "name",
            "model",
            "online",
            "battery",
            "last_seen",
            "created_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["robot_id", "online", "battery", "last_seen", "created_at"]

    def get_inline_instances(self, request, obj=None):
        # A robot being added has no history to show.
        return super().get_inline_instances(request, obj) if obj is not None else []

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if obj is not None and obj.pk and isinstance(inline, RecentReadOnlyInline):
            kwargs["queryset"] = inline.recent(kwargs["queryset"], obj)
        return kwargs

    @admin.display(boolean=True, ordering="is_online", description="online")
    def online(self, robot: Robot) -> bool:
        return robot.online

    @admin.display(
        ordering="latest_state__battery_percentage", description="battery (%)"
    )
    def battery(self, robot: Robot) -> float | None:
        state = robot.latest_state
        return state.battery_percentage if state else None

    @admin.action(
        description="Stop selected robots (zero-velocity command)",
        permissions=["stop"],
    )
    def stop(self, request, queryset):
        stopped, refused = [], []
        for robot_id in queryset.values_list("pk", flat=True):
            try:
                services.robot_command_send(
                    robot_id=robot_id,
                    linear_x=0.0,
                    linear_y=0.0,
                    angular_z=0.0,
                    sent_by=request.user,
                )
                stopped.append(robot_id)
            except DomainError as exc:
                refused.append(exc.detail)
        if stopped:
            self.message_user(
                request, f"Stop sent to {len(stopped)} robot(s): {', '.join(stopped)}."
            )
        for detail in refused:
            self.message_user(request, f"Stop refused: {detail}", messages.ERROR)

    def has_stop_permission(self, request) -> bool:
        return request.user.has_perm("hardware.add_robotcommand")

    def save_model(self, request, obj, form, change):
        try:
            if not change:
                services.robot_register(
                    robot_id=obj.robot_id, name=obj.name, model=obj.model
                )
                obj._state.adding = False
            elif {"name", "model"} & set(form.changed_data):
                services.robot_update(
                    robot_id=obj.robot_id, name=obj.name, model=obj.model
                )
        except DomainError as exc:
            self.message_user(request, exc.detail, messages.ERROR)

    def has_delete_permission(self, request, obj=None):
        return False
