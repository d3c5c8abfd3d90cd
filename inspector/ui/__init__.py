"""The Qt shell: windows, models and workers that only schedule core work. Core never imports it."""
