"""The command line: commands only -- parse, call one core function, render.

``grammar`` declares arguments and options, ``commands`` routes command words to
the ``*_cmd`` modules that declare them, ``parse``/``help``/``completion`` are
derived from those declarations, ``render`` turns results and errors into
output and exit codes, ``progress`` renders progress events, ``app`` is the
entry point.  May import ``attune_packs.api`` and the domain packages for one
core call and its result types; never ``db``, HTTP or git directly.
"""
