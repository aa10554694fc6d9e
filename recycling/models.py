"""The lots domain: the category catalogue (lots themselves arrive with the lots issue)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Unit(models.TextChoices):
    TONNE = "t", _("t")
    KILOGRAM = "kg", _("kg")
    PIECE = "piece", _("piece")


class Category(models.Model):
    """A class of the national renewable-resources catalogue, or one of its trade grades.

    Top-level classes (废钢铁, 废纸 …) have no parent; grades (重废, 黄板纸 …) point to theirs.
    `hazardous` marks classes that may only be awarded to a processor whose licence covers them.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), on_delete=models.PROTECT, null=True, blank=True, related_name="grades"
    )
    unit = models.CharField(_("default unit"), max_length=8, choices=Unit.choices, default=Unit.TONNE)
    hazardous = models.BooleanField(_("hazardous / licence required"), default=False)
    sort = models.PositiveSmallIntegerField(_("sort order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return f"{self.parent.name} · {self.name}" if self.parent_id else self.name

    @property
    def licence_required(self) -> bool:
        return self.hazardous or bool(self.parent_id and self.parent.hazardous)
