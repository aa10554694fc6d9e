"""Harbin's nine districts, two county-level cities and seven counties (哈尔滨市辖区、县、县级市)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class District(models.TextChoices):
    DAOLI = "daoli", _("道里区")
    NANGANG = "nangang", _("南岗区")
    DAOWAI = "daowai", _("道外区")
    PINGFANG = "pingfang", _("平房区")
    SONGBEI = "songbei", _("松北区")
    XIANGFANG = "xiangfang", _("香坊区")
    HULAN = "hulan", _("呼兰区")
    ACHENG = "acheng", _("阿城区")
    SHUANGCHENG = "shuangcheng", _("双城区")
    SHANGZHI = "shangzhi", _("尚志市")
    WUCHANG = "wuchang", _("五常市")
    YILAN = "yilan", _("依兰县")
    FANGZHENG = "fangzheng", _("方正县")
    BINXIAN = "binxian", _("宾县")
    BAYAN = "bayan", _("巴彦县")
    MULAN = "mulan", _("木兰县")
    TONGHE = "tonghe", _("通河县")
    YANSHOU = "yanshou", _("延寿县")
