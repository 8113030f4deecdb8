"""A window to drag files from, as a file manager offers them (text/uri-list).

    /usr/bin/python3 drag-source.py X Y URI...

Opens a small window at X, Y on $DISPLAY, prints "ready" once it is shown,
and offers the URIs to whatever a drag from it is dropped on. The window
test drags from it onto the app with xdotool.
"""
import sys

import gi

gi.require_version('Gtk', '3.0')
gi.require_version('Gdk', '3.0')
from gi.repository import Gdk, GLib, Gtk  # noqa: E402

x, y, uris = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
window = Gtk.Window(title='drag source')
window.set_default_size(90, 90)
window.move(x, y)
handle = Gtk.EventBox()
handle.add(Gtk.Label(label='drag me'))
window.add(handle)
handle.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
handle.drag_source_add_uri_targets()
handle.connect('drag-data-get', lambda _w, _ctx, data, _info, _time: data.set_uris(uris))
window.connect('destroy', Gtk.main_quit)
window.connect('map-event', lambda *_: GLib.idle_add(lambda: print('ready', flush=True)))
window.show_all()
Gtk.main()
