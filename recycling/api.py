"""Lots-domain API: the category catalogue (lots arrive with the lots issue)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from recycling.models import Category


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Category
        fields = ["code", "name", "name_en", "unit", "hazardous", "parent"]


class CategoryListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=CategorySerializer(many=True), summary="The renewable-resources catalogue with grades")
    def get(self, request):
        categories = Category.objects.filter(active=True).select_related("parent").order_by("sort", "code")
        return Response(CategorySerializer(categories, many=True).data)
