"""Print-file rendering with Pillow: product templates -> 300-DPI print files
and small previews, plus safe loading of customer images.
"""
