"""The national catalogue of renewable resources (再生资源回收目录) with the grades the trade
uses in Heilongjiang. Admin-editable afterwards; this migration only inserts what is missing."""

from django.db import migrations

# (code, name, English, unit, hazardous, [(code, name, English), ...])
CATALOGUE = [
    ("steel", "废钢铁", "Ferrous scrap", "t", False, [
        ("steel-heavy", "重废", "Heavy melting scrap"),
        ("steel-medium", "中废", "Medium scrap"),
        ("steel-light", "轻薄料", "Light gauge scrap"),
        ("steel-turnings", "钢屑", "Steel turnings"),
        ("steel-cast-iron", "废铸铁", "Cast iron"),
        ("steel-stainless", "不锈钢废料", "Stainless steel scrap"),
    ]),
    ("nonferrous", "废有色金属", "Non-ferrous scrap", "t", False, [
        ("copper-bright", "光亮铜", "Bright copper wire"),
        ("copper-yellow", "黄杂铜", "Yellow brass / mixed copper"),
        ("copper-cable", "废电线电缆", "Insulated cable"),
        ("aluminium-cast", "生铝", "Cast aluminium"),
        ("aluminium-wrought", "熟铝", "Wrought aluminium"),
        ("lead-scrap", "废铅", "Lead scrap"),
        ("zinc-scrap", "废锌", "Zinc scrap"),
    ]),
    ("paper", "废纸", "Waste paper", "t", False, [
        ("paper-occ", "黄板纸", "Old corrugated cardboard (OCC)"),
        ("paper-books", "书本纸", "Books and magazines"),
        ("paper-news", "报纸", "Old newspapers"),
        ("paper-white", "白纸边", "White trimmings"),
    ]),
    ("plastics", "废塑料", "Waste plastics", "t", False, [
        ("plastic-pet", "PET", "PET bottles"),
        ("plastic-hdpe", "HDPE", "HDPE"),
        ("plastic-pp", "PP", "PP"),
        ("plastic-pvc", "PVC", "PVC"),
        ("plastic-ldpe", "LDPE 膜", "LDPE film"),
        ("plastic-abs", "ABS/PS", "ABS / PS"),
    ]),
    ("tyres", "废轮胎", "End-of-life tyres", "t", False, [
        ("tyre-truck", "载重胎", "Truck tyres"),
        ("tyre-car", "轿车胎", "Passenger car tyres"),
    ]),
    ("weee", "废弃电器电子产品", "Waste electrical and electronic equipment", "piece", True, [
        ("weee-tv", "废电视机", "Televisions"),
        ("weee-fridge", "废电冰箱", "Refrigerators"),
        ("weee-washer", "废洗衣机", "Washing machines"),
        ("weee-aircon", "废空调", "Air conditioners"),
        ("weee-computer", "废微型计算机", "Computers"),
    ]),
    ("elv", "报废机动车", "End-of-life vehicles", "piece", True, [
        ("elv-car", "报废乘用车", "Passenger cars"),
        ("elv-truck", "报废货车", "Trucks"),
        ("elv-motorcycle", "报废摩托车", "Motorcycles"),
    ]),
    ("textiles", "废旧纺织品", "Used textiles", "t", False, [
        ("textile-cotton", "纯棉", "Cotton"),
        ("textile-synthetic", "化纤", "Synthetic fibre"),
        ("textile-blend", "混纺", "Blends"),
    ]),
    ("glass", "废玻璃", "Waste glass", "t", False, [
        ("glass-flat", "平板玻璃", "Flat glass"),
        ("glass-container", "瓶罐玻璃", "Container glass"),
    ]),
    ("batteries", "废电池", "Waste batteries", "t", True, [
        ("battery-lead-acid", "废铅酸蓄电池", "Lead-acid batteries"),
        ("battery-lithium", "废锂离子电池", "Lithium-ion batteries"),
        ("battery-nimh", "废镍氢电池", "NiMH batteries"),
    ]),
    ("wood", "废旧木材", "Waste wood", "t", False, [
        ("wood-pallet", "托盘", "Pallets"),
        ("wood-construction", "建筑废木", "Construction wood"),
    ]),
]


def forward(apps, schema_editor):
    Category = apps.get_model("recycling", "Category")
    for sort, (code, name, name_en, unit, hazardous, grades) in enumerate(CATALOGUE, start=1):
        parent, _ = Category.objects.get_or_create(
            code=code,
            defaults={"name": name, "name_en": name_en, "unit": unit, "hazardous": hazardous, "sort": sort * 100},
        )
        for index, (grade_code, grade_name, grade_en) in enumerate(grades, start=1):
            Category.objects.get_or_create(
                code=grade_code,
                defaults={
                    "name": grade_name,
                    "name_en": grade_en,
                    "unit": unit,
                    "hazardous": hazardous,
                    "parent": parent,
                    "sort": sort * 100 + index,
                },
            )


def backward(apps, schema_editor):
    Category = apps.get_model("recycling", "Category")
    Category.objects.exclude(parent=None).delete()
    Category.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("recycling", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
