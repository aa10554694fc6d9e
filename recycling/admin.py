from django.contrib import admin

from recycling.models import Category


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "parent", "unit", "hazardous", "active", "sort"]
    list_filter = ["hazardous", "active", "unit", "parent"]
    search_fields = ["code", "name", "name_en"]
    list_editable = ["active", "sort"]
