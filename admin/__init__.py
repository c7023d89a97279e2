"""The admin web view for officials and associations (aiohttp + Jinja2)."""
