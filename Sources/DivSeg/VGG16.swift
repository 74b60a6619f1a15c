import DivSegIO
