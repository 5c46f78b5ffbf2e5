"""The accountability report rendered for readers: JSON, Markdown, HTML and PDF (render.py), in
Dutch or English (words.py), with its pictures as SVG (templates/*.svg.j2)."""
