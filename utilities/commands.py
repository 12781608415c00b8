from django.core.management.base import CommandError

from .csvdata import DataFileError


def run_loader(command, loader, **kwargs):
    """Run a loader service for a management command, turning data errors into a CommandError."""
    try:
        return loader(**kwargs)
    except DataFileError as exc:
        raise CommandError("数据文件有误，数据库未作任何改动：\n" + "\n".join(f"  {e}" for e in exc.errors)) from exc
