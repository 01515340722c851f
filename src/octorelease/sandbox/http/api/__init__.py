"""The ``/api`` handlers, one module per resource; ``urls.py`` routes to them."""
