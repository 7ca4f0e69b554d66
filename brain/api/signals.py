from brain.security import security_event


def log_lockout(sender, request, username, ip_address, **kwargs) -> None:
    security_event(
        "lockout",
        user=username,
        client=ip_address,
        path=getattr(request, "path", None),
    )
