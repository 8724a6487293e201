"""Running a newsletter day to day: checks that gather every stage's findings (``doctor``)."""
