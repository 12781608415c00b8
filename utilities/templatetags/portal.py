from django import template

from accounts.models import person_name

register = template.Library()
register.filter("person", person_name)
