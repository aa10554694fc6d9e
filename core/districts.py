"""Harbin's nine districts, two county-level cities and seven counties (哈尔滨市辖区、县、县级市).

English msgids; the zh-Hans names (道里区 …) come from the translation catalogue."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class District(models.TextChoices):
    DAOLI = "daoli", _("Daoli District")
    NANGANG = "nangang", _("Nangang District")
    DAOWAI = "daowai", _("Daowai District")
    PINGFANG = "pingfang", _("Pingfang District")
    SONGBEI = "songbei", _("Songbei District")
    XIANGFANG = "xiangfang", _("Xiangfang District")
    HULAN = "hulan", _("Hulan District")
    ACHENG = "acheng", _("Acheng District")
    SHUANGCHENG = "shuangcheng", _("Shuangcheng District")
    SHANGZHI = "shangzhi", _("Shangzhi City")
    WUCHANG = "wuchang", _("Wuchang City")
    YILAN = "yilan", _("Yilan County")
    FANGZHENG = "fangzheng", _("Fangzheng County")
    BINXIAN = "binxian", _("Bin County")
    BAYAN = "bayan", _("Bayan County")
    MULAN = "mulan", _("Mulan County")
    TONGHE = "tonghe", _("Tonghe County")
    YANSHOU = "yanshou", _("Yanshou County")
