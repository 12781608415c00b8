"""Template filters every app's pages use (``{% load portal %}``); here at the top, as they read several apps."""

from django import template

from accounts.models import person_name

register = template.Library()
register.filter("person", person_name)
