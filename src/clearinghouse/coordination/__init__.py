"""Coordination: deconflicting who scans what (scan campaigns and their
overlaps) today; vendor threads, embargoes, VEX and notifications as they land.
"""
